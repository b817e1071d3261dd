// JSON Schema and AsyncAPI documents derived from the catalogue. The generator script writes
// them to schema/; a test regenerates them in memory and fails when the committed files drift.
import {
  catalogue,
  ClientMessage,
  ServerMessage,
  IceCandidate,
  PROTOCOL_VERSION,
  type MessageEntry,
} from './messages.js';
import { examples } from './examples.js';
import { DEFAULT_HOST, DEFAULT_PORT } from './codes.js';

const DRAFT = 'http://json-schema.org/draft-07/schema#';

/** A TypeBox schema as plain JSON (TypeBox keeps its metadata in symbols, which JSON drops). */
function plain(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/** Inline `$ref`-free copy with `$id` removed, for embedding inside other documents. */
function embedded(schema: unknown): Record<string, unknown> {
  const copy = plain(schema);
  const strip = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(strip);
    else if (node !== null && typeof node === 'object') {
      delete (node as Record<string, unknown>)['$id'];
      Object.values(node).forEach(strip);
    }
  };
  strip(copy);
  return copy;
}

function fileName(e: MessageEntry): string {
  return `${e.direction}.${e.name}.schema.json`;
}

/** Every generated file: relative path under schema/ → file text. */
export function generateDocuments(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const e of catalogue) {
    files[fileName(e)] = json({
      $schema: DRAFT,
      ...embedded(e.schema),
      $id: `https://tandem.dev/schema/${fileName(e)}`,
    });
  }
  files['bundle.schema.json'] = json({
    $schema: DRAFT,
    $id: 'https://tandem.dev/schema/bundle.schema.json',
    title: 'tandem signaling protocol',
    definitions: {
      IceCandidate: embedded(IceCandidate),
      ...Object.fromEntries(
        catalogue.map((e) => [`${e.direction === 'client' ? 'Client' : 'Server'}${e.name}`, embedded(e.schema)]),
      ),
      ClientMessage: embedded(ClientMessage),
      ServerMessage: embedded(ServerMessage),
    },
  });
  files['asyncapi.json'] = json(asyncApiDocument());
  return files;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function messageKey(e: MessageEntry): string {
  return `${e.direction}${e.name}`;
}

/** The AsyncAPI 3 document for one WebSocket channel, seen from the server. */
export function asyncApiDocument(): Record<string, unknown> {
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const e of catalogue) {
    const key = messageKey(e);
    schemas[key] = embedded(e.schema);
    messages[key] = {
      name: e.type,
      title: e.name,
      summary: e.summary + (e.since === 2 ? ' (extension, not in wire v1)' : ''),
      contentType: 'application/json',
      payload: { $ref: `#/components/schemas/${key}` },
      examples: (examples[key] ?? []).map((payload, i) => ({ name: `${key}${i}`, payload })),
    };
  }
  const ref = (e: MessageEntry) => ({ $ref: `#/channels/signaling/messages/${messageKey(e)}` });
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'tandem signaling',
      version: `${PROTOCOL_VERSION}.0.0`,
      description:
        'Pairs two WebSocket clients and relays their WebRTC offer/answer/ICE candidates. One JSON object per text frame; ' +
        'unknown fields are ignored. Wire v1 is the floor; version 2 adds hello/welcome, announced by optional fields of your_id.',
    },
    servers: {
      local: { host: `${DEFAULT_HOST}:${DEFAULT_PORT}`, protocol: 'ws', description: 'tandem-server default' },
    },
    defaultContentType: 'application/json',
    channels: {
      signaling: {
        address: '/',
        title: 'Signaling socket',
        messages: Object.fromEntries(
          catalogue.map((e) => [messageKey(e), { $ref: `#/components/messages/${messageKey(e)}` }]),
        ),
      },
    },
    operations: {
      sendToClient: {
        action: 'send',
        title: 'Server to client',
        summary:
          'Frames the server sends: id assignment, pairing results, relayed signals, keepalive, disconnect notices',
        channel: { $ref: '#/channels/signaling' },
        messages: catalogue.filter((e) => e.direction === 'server').map(ref),
      },
      receiveFromClient: {
        action: 'receive',
        title: 'Client to server',
        summary: 'Frames a client sends: pairing requests, signals for its partner, keepalive answers',
        channel: { $ref: '#/channels/signaling' },
        messages: catalogue.filter((e) => e.direction === 'client').map(ref),
      },
    },
    components: { schemas, messages },
  };
}
