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
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { NewAuthorizationBearerInterceptor } from "@zitadel/client";
import { createServerTransport } from "@zitadel/client/node";
import { createClientTransport } from "@zitadel/client/web";
import { createUserServiceClient } from "@zitadel/client/v2";
import { ErrorDetailSchema } from "@zitadel/proto/zitadel/message_pb.js";
import { UserService } from "@zitadel/proto/zitadel/user/v2/user_service_pb.js";

// With a token, the transports as a ZITADEL login UI builds them; without one, the same protocols bare.
const transports = {
  "grpc": (baseUrl, token) => token === null ? createGrpcTransport({ baseUrl }) : createServerTransport(token, { baseUrl }),
  "grpc-web": (baseUrl, token) => token === null ? createGrpcWebTransport({ baseUrl }) : createClientTransport(token, { baseUrl }),
  "connect": (baseUrl, token) => connect(baseUrl, token, false),
  "connect-binary": (baseUrl, token) => connect(baseUrl, token, true),
};

function connect(baseUrl, token, useBinaryFormat) {
  const interceptors = token === null ? [] : [NewAuthorizationBearerInterceptor(token)];
  return createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat, interceptors });
}

// One client per transport, address and token, as an application keeps one.
const clients = new Map();
function clientFor(transport, baseUrl, token) {
  const key = JSON.stringify([transport, baseUrl, token]);
  if (!clients.has(key)) {
    const make = transports[transport];
    if (!make) throw new Error(`unknown transport ${transport}`);
    clients.set(key, transport.startsWith("connect") ? createClient(UserService, make(baseUrl, token)) : createUserServiceClient(make(baseUrl, token)));
  }
  return clients.get(key);
}

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
