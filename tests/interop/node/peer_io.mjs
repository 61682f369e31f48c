// Shared by the interop peers: read {"requests": [...]} on stdin, answer each with
// OPS[req.op](req), write {"results": [...]} on stdout. A failure is a result
// ({"ok": false, "code", "message"}), never an exit code.
export async function serve(OPS) {
  async function answer(req) {
    try {
      const op = OPS[req.op];
      if (op === undefined) throw new Error(`unknown op ${req.op}`);
      return { ok: true, ...(await op(req)) };
    } catch (error) {
      return { ok: false, code: error.code ?? error.name, message: String(error.message) };
    }
  }

  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const { requests } = JSON.parse(input);
  const results = [];
  for (const req of requests) results.push(await answer(req));
  process.stdout.write(JSON.stringify({ results }));
}
