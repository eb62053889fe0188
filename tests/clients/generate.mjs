// Generates the hub's clients from the OpenAPI document its build writes (Hub.Server.json next to Hub.Server.dll):
//   node generate.mjs                         both: TypeScript into ts-client/, C# into cs-client/HubApiClient.cs
//   node generate.mjs typescript [out-dir]    @hey-api/openapi-ts with the fetch client (default ts-client/)
//   node generate.mjs csharp [out-file]       NSwag's HubApiClient, System.Text.Json (tests/Hub.Clients.Tests runs this)
// The document: $HUB_OPENAPI, else Hub.Server.json next to $HUB_DLL, else the Release build's. Same document, same
// output: neither generator writes a date, and NSwag leaves an unchanged file untouched (incremental builds).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@hey-api/openapi-ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const dll = process.env.HUB_DLL ?? path.resolve(here, '../../src/Hub.Server/bin/Release/net10.0/Hub.Server.dll');
const document = path.resolve(process.env.HUB_OPENAPI ?? dll.replace(/\.dll$/, '.json'));

export async function generateTypeScript(outDir = path.join(here, 'ts-client')) {
  await createClient({
    input: document,
    output: path.resolve(outDir),
    plugins: ['@hey-api/client-fetch'],
    logs: { level: 'warn', file: false },
  });
}

export function generateCSharp(outFile = path.join(here, 'cs-client/HubApiClient.cs')) {
  const nswag = path.join(here, 'node_modules/nswag/bin/nswag.js');
  const result = spawnSync(process.execPath, [nswag, 'openapi2csclient', '/runtime:Net100',
    `/input:${document}`, `/output:${path.resolve(outFile)}`, '/namespace:Hub.Clients.Generated', '/className:HubApiClient',
    '/useBaseUrl:false', '/jsonLibrary:SystemTextJson', '/generateOptionalParameters:true'], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`nswag failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!existsSync(document)) {
    console.error(`generate.mjs: no OpenAPI document at ${document}: build src/Hub.Server first (it writes the document), or set HUB_OPENAPI.`);
    process.exit(1);
  }
  const [what, out] = process.argv.slice(2);
  const started = performance.now();
  if (what === undefined || what === 'typescript') await generateTypeScript(out);
  if (what === undefined || what === 'csharp') generateCSharp(out);
  if (!['typescript', 'csharp', undefined].includes(what)) {
    console.error(`generate.mjs: unknown client '${what}' (typescript or csharp)`);
    process.exit(2);
  }
  console.log(`generated ${what ?? 'typescript and csharp'} from ${path.relative(process.cwd(), document)} in ${Math.round(performance.now() - started)} ms`);
}
