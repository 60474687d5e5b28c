// check.mjs: every response of the web service through a strict HTTP/1.1
// client (undici, whose llhttp parser refuses malformed responses: a bad
// status line, a Content-Length that disagrees with the body, duplicate or
// conflicting framing headers), on one keep-alive connection with
// pipelining. Compares bodies with the files the image was made from.
//   node check.mjs URL TREE     (TREE: the directory served as /)
// Prints PASS/FAIL lines and "N passed, N failed"; exits 1 on a failure.
import { Client } from 'undici';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [url, tree] = process.argv.slice(2);
let passed = 0, failed = 0;
const check = (ok, what) => {
	if (ok) { passed++; console.log(`PASS: ${what}`); }
	else { failed++; console.log(`FAIL: ${what}`); }
};

let connects = 0;
const client = new Client(url, { pipelining: 8, headersTimeout: 10000, bodyTimeout: 10000 });
client.on('connect', () => connects++);

async function fetchOne(path, opts = {}) {
	const r = await client.request({ path, method: opts.method ?? 'GET', headers: opts.headers ?? {} });
	const body = Buffer.from(await r.body.arrayBuffer());
	return { status: r.statusCode, headers: r.headers, body };
}

function filesUnder(dir, prefix = '/') {
	const out = [];
	for (const name of readdirSync(dir).sort()) {
		const full = join(dir, name);
		if (statSync(full).isDirectory()) {
			if (name !== 'logs') out.push(...filesUnder(full, `${prefix}${name}/`));
		} else {
			out.push([`${prefix}${name}`, full]);
		}
	}
	return out;
}

const httpDate = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;

async function main() {
	// Every file, all at once on the pipelined connection.
	const files = filesUnder(tree);
	const answers = await Promise.all(files.map(([path]) => fetchOne(path)));
	files.forEach(([path, full], i) => {
		const a = answers[i], want = readFileSync(full);
		check(a.status === 200 && a.body.equals(want) &&
		      Number(a.headers['content-length']) === want.length &&
		      httpDate.test(a.headers['date'] ?? '') && httpDate.test(a.headers['last-modified'] ?? '') &&
		      /^"[^"]+"$/.test(a.headers['etag'] ?? '') && a.headers['content-type'],
		      `GET ${path}: 200, ${want.length} bytes as the file, Date, Last-Modified, ETag, Content-Type`);
	});
	const index = readFileSync(join(tree, 'index.html'));

	const root = await fetchOne('/');
	check(root.status === 200 && root.body.equals(index), 'GET /: the index');
	const etag = root.headers['etag'], lm = root.headers['last-modified'];
	const inm = await fetchOne('/', { headers: { 'if-none-match': etag } });
	check(inm.status === 304 && inm.body.length === 0 && inm.headers['etag'] === etag,
	      'If-None-Match: 304, no body, the same ETag');
	const ims = await fetchOne('/', { headers: { 'if-modified-since': lm } });
	check(ims.status === 304 && ims.body.length === 0, 'If-Modified-Since: 304, no body');

	const range = await fetchOne('/', { headers: { range: 'bytes=10-109' } });
	check(range.status === 206 && range.body.equals(index.subarray(10, 110)) &&
	      range.headers['content-range'] === `bytes 10-109/${index.length}`,
	      'Range bytes=10-109: 206, those bytes, Content-Range');
	const past = await fetchOne('/', { headers: { range: `bytes=${index.length + 10}-` } });
	check(past.status === 416 && past.headers['content-range'] === `bytes */${index.length}`,
	      'Range past the end: 416, Content-Range bytes */size');

	const missing = await fetchOne('/no/such/file.html');
	check(missing.status === 404 && Number(missing.headers['content-length']) === missing.body.length,
	      '404 for a missing file, its body framed by Content-Length');
	const post = await fetchOne('/', { method: 'POST' });
	check(post.status === 405 && /GET/.test(post.headers['allow'] ?? '') && /HEAD/.test(post.headers['allow'] ?? ''),
	      'POST: 405 with Allow: GET, HEAD');
	const escape = await fetchOne('/%2e%2e/%2e%2e/etc/passwd');
	check(escape.status === 400 || escape.status === 404, `an encoded .. is refused (${escape.status})`);

	check(connects === 1, `all ${files.length + 8} requests on one keep-alive connection (${connects} made)`);

	// Last: undici closes its connection after a HEAD (against servers that
	// send a body anyway), so it would count as a second connection.
	const head = await fetchOne('/', { method: 'HEAD' });
	check(head.status === 200 && head.body.length === 0 &&
	      Number(head.headers['content-length']) === index.length, 'HEAD /: no body, the length of GET');
	await client.close();
}

main().catch((err) => { failed++; console.log(`FAIL: strict client error: ${err.code ?? ''} ${err.message}`); })
	.finally(() => {
		console.log(`${passed} passed, ${failed} failed`);
		process.exit(failed ? 1 : 0);
	});
