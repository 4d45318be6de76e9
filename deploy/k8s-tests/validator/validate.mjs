// Validates Kubernetes manifests against the API's OpenAPI schemas, strictly.
//
// Usage: node validate.mjs MANIFESTS.json   (a JSON array of manifests)
// Prints one JSON array to stdout, one entry per manifest:
//   {index, apiVersion, kind, name, status: "valid" | "invalid" | "no-schema", errors: [...]}
// Exit code 0 when every manifest was checked (whatever the verdicts), 2 on unusable input.
//
// Two checks per manifest:
// 1. kubernetes-models' validators (generated from the Kubernetes OpenAPI spec; KEDA's from its CRDs): types,
//    formats (quantities, int32...), enums and required fields.
// 2. Unknown fields. Those validators accept fields the schema does not define (the OpenAPI spec sets no
//    additionalProperties: false), while `kubectl apply` rejects them (server-side field validation is Strict by
//    default). So the manifest is handed to the validator behind a Proxy that records every property the validator
//    reads: a generated validator reads each property its schema defines and enumerates the keys of map-typed
//    objects (labels, ConfigMap data...). A key of an object that the validator neither read nor enumerated is a
//    field the schema does not know: a misspelt `readinesProbe` lands here.

import { readFileSync } from "node:fs";

const CORE_PACKAGE = "kubernetes-models";
const CRD_PACKAGES = { "keda.sh": "@kubernetes-models/keda" };

async function modelFor(apiVersion, kind) {
    if (typeof apiVersion !== "string" || typeof kind !== "string") {
        return null;
    }
    const slash = apiVersion.indexOf("/");
    const group = slash < 0 ? "" : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    let specifier;
    if (group === "") {
        specifier = `${CORE_PACKAGE}/${version}/${kind}`;
    } else if (CRD_PACKAGES[group]) {
        specifier = `${CRD_PACKAGES[group]}/${group}/${version}/${kind}`;
    } else {
        specifier = `${CORE_PACKAGE}/${group}/${version}/${kind}`;
    }
    try {
        const module = await import(specifier);
        return module[kind] ?? null;
    } catch (e) {
        if (e.code === "ERR_PACKAGE_PATH_NOT_EXPORTED" || e.code === "ERR_MODULE_NOT_FOUND") {
            return null;
        }
        throw e;
    }
}

/** Wraps value (deeply, lazily) so that reads and key enumerations are recorded in `objects`. */
function track(value, path, objects) {
    if (value === null || typeof value !== "object") {
        return value;
    }
    const record = { path, value, read: new Set(), enumerated: false };
    objects.push(record);
    const children = new Map();
    return new Proxy(value, {
        get(target, key, receiver) {
            const child = Reflect.get(target, key, receiver);
            if (typeof key !== "string" || !Object.hasOwn(target, key)) {
                return child;
            }
            record.read.add(key);
            if (child === null || typeof child !== "object") {
                return child;
            }
            if (!children.has(key)) {
                children.set(key, track(child, `${path}/${key}`, objects));
            }
            return children.get(key);
        },
        has(target, key) {
            if (typeof key === "string") {
                record.read.add(key);
            }
            return Reflect.has(target, key);
        },
        ownKeys(target) {
            record.enumerated = true;
            return Reflect.ownKeys(target);
        },
    });
}

function unknownFields(objects) {
    const errors = [];
    for (const { path, value, read, enumerated } of objects) {
        if (Array.isArray(value) || enumerated) {
            continue;
        }
        for (const key of Object.keys(value)) {
            if (!read.has(key)) {
                errors.push(`data${path} has unknown field "${key}"`);
            }
        }
    }
    return errors;
}

async function validate(manifest, index) {
    const apiVersion = manifest?.apiVersion;
    const kind = manifest?.kind;
    const name = manifest?.metadata?.name ?? null;
    const result = { index, apiVersion, kind, name, status: "valid", errors: [] };
    const Model = await modelFor(apiVersion, kind);
    if (Model === null) {
        result.status = "no-schema";
        return result;
    }
    const objects = [];
    const tracked = track(manifest, "", objects);
    try {
        // The model's validate() runs the generated schema validator on `this`: pass the raw (tracked) manifest.
        Model.prototype.validate.call(tracked);
    } catch (e) {
        result.errors.push(...String(e.message).split(", data").map((m, i) => (i === 0 ? m : "data" + m)));
    }
    result.errors.push(...unknownFields(objects));
    if (result.errors.length > 0) {
        result.status = "invalid";
    }
    return result;
}

const file = process.argv[2];
if (!file) {
    console.error("usage: node validate.mjs MANIFESTS.json");
    process.exit(2);
}
let manifests;
try {
    manifests = JSON.parse(readFileSync(file, "utf8"));
} catch (e) {
    console.error(`cannot read manifests from ${file}: ${e.message}`);
    process.exit(2);
}
if (!Array.isArray(manifests)) {
    console.error(`${file}: expected a JSON array of manifests, got ${typeof manifests}`);
    process.exit(2);
}
const results = [];
for (let i = 0; i < manifests.length; i++) {
    results.push(await validate(manifests[i], i));
}
process.stdout.write(JSON.stringify(results) + "\n");
