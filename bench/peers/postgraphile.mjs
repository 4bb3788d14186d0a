// PostGraphile 5 serving the `bench` schema (bench/peers/schema.sql) for the benchmark.
//
//   DATABASE_URL=postgres://… PORT=8080 node bench/peers/postgraphile.mjs
//
// Library mode on Node's own HTTP server (what the PostGraphile CLI does too), with the Amber
// preset and production settings: no GraphiQL, no watch mode, no explain, no websockets, no
// LISTEN client. GET /health answers 200 once the schema is built and the port is open.
import { createServer } from "node:http";

import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const connectionString = process.env.DATABASE_URL;
const port = Number(process.env.PORT ?? process.argv[2] ?? 5678);
const poolSize = Number(process.env.POOL_SIZE ?? 32); // loregraph runs with 32 connections
if (!connectionString) {
  console.error("DATABASE_URL is not set");
  process.exit(2);
}

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString,
      schemas: ["bench"],
      poolConfig: { max: poolSize },
      pubsub: false,
    }),
  ],
  grafserv: {
    graphqlPath: "/graphql",
    graphiql: false,
    graphiqlOnGraphQLGET: false,
    graphqlOverGET: false,
    watch: false,
    websockets: false,
  },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
await pgl.getSchema(); // build the schema (introspection) before answering anything

const graphql = serv.createHandler();
const server = createServer((req, res) => {
  graphql(req, res, (error) => {
    if (error) {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error));
    } else if (req.url === "/health") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    } else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => console.log(`postgraphile listening on 127.0.0.1:${port}`));

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close();
    Promise.resolve(pgl.release()).finally(() => process.exit(0));
  });
}
