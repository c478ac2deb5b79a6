// The transports of zitadel.user.v2.UserService as ZITADEL's npm clients build them, shared by driver.mjs and bench.mjs.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { NewAuthorizationBearerInterceptor } from "@zitadel/client";
import { createServerTransport } from "@zitadel/client/node";
import { createClientTransport } from "@zitadel/client/web";
import { createUserServiceClient } from "@zitadel/client/v2";
import { UserService } from "@zitadel/proto/zitadel/user/v2/user_service_pb.js";

export { UserService };

// With a token, the transports as a ZITADEL login UI builds them; without one, the same protocols bare.
export const transports = {
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
export function clientFor(transport, baseUrl, token) {
  const key = JSON.stringify([transport, baseUrl, token]);
  if (!clients.has(key)) {
    const make = transports[transport];
    if (!make) throw new Error(`unknown transport ${transport}`);
    clients.set(key, transport.startsWith("connect") ? createClient(UserService, make(baseUrl, token)) : createUserServiceClient(make(baseUrl, token)));
  }
  return clients.get(key);
}

