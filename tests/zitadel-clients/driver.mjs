// Calls zitadel.user.v2.UserService through ZITADEL's own npm clients, one call per line of stdin:
//   {"id": 1, "transport": "grpc", "baseUrl": "http://127.0.0.1:5001", "token": "eyJ…" | null,
//    "method": "startIdentityProviderIntent", "request": { …protojson… }}
// and answers one line on stdout per call, in any order:
//   {"id": 1, "ok": { …the answer as protojson… }, "ms": 1.8}
//   {"id": 1, "error": {"code": "permission_denied", "message": "…", "details": [{"id": "…", "message": "…"}]}, "ms": 0.9}
// Transports: "grpc" (@zitadel/client/node: gRPC over HTTP/2, cleartext here), "grpc-web" (@zitadel/client/web:
// gRPC-Web over fetch), "connect" and "connect-binary" (@connectrpc/connect-node's Connect protocol, JSON or binary).
import { createInterface } from "node:readline";
import { fromJson, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorDetailSchema } from "@zitadel/proto/zitadel/message_pb.js";
import { clientFor, UserService } from "./transports.mjs";

// Connect's code names ("permission_denied"), which are gRPC's in snake case.
const codeName = (code) => Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();

async function call({ id, transport, baseUrl, token, method, request }) {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 1000) / 1000;
  try {
    const rpc = UserService.method[method];
    if (!rpc) throw new Error(`unknown method ${method}`);
    const answer = await clientFor(transport, baseUrl, token ?? null)[method](fromJson(rpc.input, request ?? {}));
    return { id, ok: toJson(rpc.output, answer), ms: elapsed() };
  } catch (thrown) {
    const error = ConnectError.from(thrown);
    const details = error.findDetails(ErrorDetailSchema).map((detail) => ({ id: detail.id, message: detail.message }));
    return { id, error: { code: codeName(error.code), message: error.rawMessage, details }, ms: elapsed() };
  }
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.trim() === "") return;
  let command;
  try {
    command = JSON.parse(line);
  } catch {
    process.stdout.write(JSON.stringify({ id: null, error: { code: "driver", message: "not JSON: " + line.slice(0, 200) } }) + "\n");
    return;
  }
  call(command).then((answer) => process.stdout.write(JSON.stringify(answer) + "\n"));
});
process.stdout.write(JSON.stringify({ ready: true }) + "\n");
