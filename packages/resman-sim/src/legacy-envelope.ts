// The legacy API's envelope: JSON by default, <ResMan> XML when the caller's Accept asks for XML.
import { XMLBuilder } from 'fast-xml-parser';
import type { XmlNode } from './mits-lead.xml.ts';

export type ResponseFormat = 'json' | 'xml';

export interface EnvelopeHead {
  methodName: string;
  status: 'Success' | 'Error' | 'Failed';
  errorDescription: string | null;
  accountId: number | string | null;
  propertyId: string | null;
}

// Data for both renderings: ResMan nests lists differently in XML (<Employees><Employee>) than in JSON.
export interface EnvelopeData { json: Record<string, unknown>; xml: XmlNode }

export interface RenderedBody { contentType: string; body: string }

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: true });

export function pickFormat(accept: string | undefined): ResponseFormat {
  return accept !== undefined && /\b(application|text)\/xml\b/i.test(accept) ? 'xml' : 'json';
}

// XML tree -> JSON: attributes lose their "@_" prefix, arrays stay arrays, text stays a string.
export function xmlTreeToJson(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(xmlTreeToJson);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key.startsWith('@_') ? key.slice(2) : key, xmlTreeToJson(value)]),
  );
}

// MITS data is built once as an XML tree; JSON is that tree converted.
export function mitsData(tree: XmlNode): EnvelopeData {
  return { xml: tree, json: xmlTreeToJson(tree) as Record<string, unknown> };
}

export function renderEnvelope(format: ResponseFormat, head: EnvelopeHead, data?: EnvelopeData): RenderedBody {
  if (format === 'json') {
    const body = {
      MethodName: head.methodName,
      Status: head.status,
      ErrorDescription: head.errorDescription,
      AccountID: head.accountId,
      PropertyID: head.propertyId,
      ...data?.json,
    };
    return { contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) };
  }
  const root = {
    MethodName: head.methodName,
    Status: head.status,
    ErrorDescription: head.errorDescription ?? '',
    AccountID: head.accountId ?? '',
    PropertyID: head.propertyId ?? '',
    ...data?.xml,
  };
  const xml = builder.build({ ResMan: root }) as string;
  return { contentType: 'application/xml; charset=utf-8', body: `<?xml version="1.0" encoding="utf-8"?>${xml}` };
}
