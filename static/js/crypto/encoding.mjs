// Base64 (standard, padded, canonical) and canonical JSON, identical to opencmk_crypto._encoding.
import { CryptoError } from "./errors.mjs";
import { sodium } from "./sodium.mjs";

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** Standard base64 with padding (RFC 4648 §4). */
export function b64e(bytes) {
  const s = sodium();
  return s.to_base64(toBytes(bytes), s.base64_variants.ORIGINAL);
}

/** Strict inverse of b64e: alphabet, padding and zero unused bits, like Python's b64d. */
export function b64d(text) {
  if (typeof text !== "string") {
    throw new CryptoError("base64 value must be a string");
  }
  const s = sodium();
  let bytes;
  try {
    bytes = s.from_base64(text, s.base64_variants.ORIGINAL);
  } catch {
    throw new CryptoError("invalid base64");
  }
  if (s.to_base64(bytes, s.base64_variants.ORIGINAL) !== text) {
    throw new CryptoError("non-canonical base64");
  }
  return bytes;
}

export function utf8(text) {
  return encoder.encode(text);
}

export function fromUtf8(bytes) {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new CryptoError("invalid UTF-8");
  }
}

export function toBytes(value) {
  if (value instanceof Uint8Array) {
    return value;
  }
  throw new CryptoError("expected a Uint8Array");
}

export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function sortDeep(value) {
  if (Array.isArray(value)) {
    return value.map(sortDeep);
  }
  if (value !== null && typeof value === "object") {
    const out = {};
    // Code-unit order equals Python's code-point order for the ASCII keys our formats use.
    for (const key of Object.keys(value).sort()) {
      out[key] = sortDeep(value[key]);
    }
    return out;
  }
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    // Python writes 1.0 where JavaScript writes 1; only integers are canonical in both.
    throw new CryptoError("canonical JSON allows only safe integers");
  }
  return value;
}

/** Same bytes as Python's canonical_json for strings, integers, booleans, null, lists, objects. */
export function canonicalJson(value) {
  return utf8(JSON.stringify(sortDeep(value)));
}

// Duplicate keys are read differently by different parsers (JSON.parse keeps the last, others
// the first); refusing them means signer and every verifier see the same object, as in Python.
function assertNoDuplicateKeys(text) {
  const stack = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') {
        end += text[end] === "\\" ? 2 : 1;
      }
      const top = stack[stack.length - 1];
      if (top && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1));
        if (top.keys.has(key)) {
          throw new CryptoError("duplicate key in JSON object");
        }
        top.keys.add(key);
        top.expectKey = false;
      }
      i = end + 1;
      continue;
    }
    if (ch === "{") {
      stack.push({ keys: new Set(), expectKey: true });
    } else if (ch === "[") {
      stack.push(null);
    } else if (ch === "}" || ch === "]") {
      stack.pop();
    } else if (ch === "," && stack[stack.length - 1]) {
      stack[stack.length - 1].expectKey = true;
    }
    i += 1;
  }
}

/** JSON.parse that also refuses duplicate object keys (text must already be valid JSON). */
export function strictJsonParse(text) {
  const value = JSON.parse(text);
  assertNoDuplicateKeys(text);
  return value;
}
