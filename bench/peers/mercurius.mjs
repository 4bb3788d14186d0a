// A hand-written GraphQL server on the fastest Node stack we know: Fastify + Mercurius with
// graphql-jit (`jit: 1`: every query is compiled on its first use), DataLoader per request over
// a `pg` pool, and named (prepared) statements. It serves the `bench` views and functions of
// bench/peers/schema.sql, for the benchmark, and publishes every update to `characterUpdated`
// subscribers (the subscriber benchmark).
//
//   DATABASE_URL=postgres://… PORT=8080 node bench/peers/mercurius.mjs
//
// GET /health answers 200 once the port is open.
import DataLoader from "dataloader";
import Fastify from "fastify";
import { GraphQLScalarType } from "graphql";
import mercurius from "mercurius";
import pg from "pg";

const connectionString = process.env.DATABASE_URL;
const port = Number(process.env.PORT ?? process.argv[2] ?? 5679);
const poolSize = Number(process.env.POOL_SIZE ?? 32); // loregraph runs with 32 connections
if (!connectionString) {
  console.error("DATABASE_URL is not set");
  process.exit(2);
}

const pool = new pg.Pool({ connectionString, max: poolSize });
pool.on("error", (error) => console.error("idle client error", error));

const schema = `
  scalar JSON

  type Query {
    character(entityId: String!): Character
    "A page of live characters by name (lower-cased), then id: loregraph's sortBy NAME."
    characters(limit: Int = 50, offset: Int = 0): [Character!]!
    "Full-text search over characters, best match first (as loregraph's search)."
    search(query: String!, limit: Int = 20): [SearchHit!]!
  }

  type Mutation {
    "Merges {mood} into the character's fields, bumps its version and records a revision."
    updateCharacter(entityId: String!, mood: String!): Character
  }

  type Subscription {
    "Every character update, as it commits (the subscriber benchmark)."
    characterUpdated: Character!
  }

  type Character {
    entityId: String!
    name: String!
    status: String!
    fields: JSON!
    version: Int!
    faction: Faction
    location: Location
  }

  type Faction {
    entityId: String!
    name: String!
    status: String!
    fields: JSON!
    version: Int!
  }

  type Location {
    entityId: String!
    name: String!
    status: String!
    fields: JSON!
    version: Int!
  }

  type SearchHit {
    rank: Float!
    entity: Character!
  }
`;

// The columns every entity type exposes, and the characters' two references.
const ENTITY = "entity_id, name, status, fields, version";
const CHARACTER = `${ENTITY}, faction_id, location_id`;

const SQL = {
  character: {
    name: "character_by_id",
    text: `SELECT ${CHARACTER} FROM bench.characters WHERE entity_id = $1`,
  },
  // loregraph's deferred join: the page's ids come off the name index alone (a deep offset
  // skips index entries, not rows), then only those rows are read.
  page: {
    name: "characters_page",
    text: `SELECT ${CHARACTER} FROM bench.characters
            WHERE entity_id = ANY (ARRAY(SELECT entity_id FROM bench.characters
                                          ORDER BY sort_name, entity_id LIMIT $1 OFFSET $2))
            ORDER BY sort_name, entity_id`,
  },
  factions: {
    name: "factions_by_id",
    text: `SELECT ${ENTITY} FROM bench.factions WHERE entity_id = ANY ($1::text[])`,
  },
  locations: {
    name: "locations_by_id",
    text: `SELECT ${ENTITY} FROM bench.locations WHERE entity_id = ANY ($1::text[])`,
  },
  // The same statement as bench.search_characters, with the tsquery built here as loregraph
  // builds it, and the hit's character read in the same statement.
  search: {
    name: "search_characters",
    text: `SELECT ts_rank(search, to_tsquery('simple', $1)) AS rank, ${CHARACTER}
             FROM bench.characters
            WHERE search @@ to_tsquery('simple', $1)
            ORDER BY rank DESC, updated_at DESC
            LIMIT $2`,
  },
  update: {
    name: "update_character",
    text: `SELECT ${CHARACTER} FROM bench.update_character($1, $2)`,
  },
};

// loregraph's bounds for limits (src/graphql/pagination.rs).
const MAX_LIMIT = 200;

function checkLimit(limit) {
  if (limit < 1 || limit > MAX_LIMIT) {
    throw new mercurius.ErrorWithProps(`limit must be between 1 and ${MAX_LIMIT}`);
  }
}

async function query(statement, values) {
  const result = await pool.query({ ...statement, values });
  return result.rows;
}

// loregraph's TsQuery::parse: words of letters and digits (Rust's char::is_alphanumeric), at
// most 16, each lower-cased and a prefix match, all required.
function tsquery(text) {
  const words = text.split(/[^\p{Alphabetic}\p{N}]+/u).filter((word) => word !== "").slice(0, 16);
  return words.length ? words.map((word) => `${word.toLowerCase()}:*`).join(" & ") : null;
}

// A DataLoader of rows by entity_id, one statement per batch.
function byId(statement) {
  return new DataLoader(async (ids) => {
    const rows = await query(statement, [ids]);
    const found = new Map(rows.map((row) => [row.entity_id, row]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

const entityFields = {
  entityId: (row) => row.entity_id,
};

const resolvers = {
  JSON: new GraphQLScalarType({
    name: "JSON",
    serialize: (value) => value,
    parseValue: (value) => value,
  }),
  Query: {
    async character(_, { entityId }) {
      const rows = await query(SQL.character, [entityId]);
      return rows[0] ?? null;
    },
    async characters(_, { limit, offset }) {
      checkLimit(limit);
      if (offset < 0) {
        throw new mercurius.ErrorWithProps("offset must be at least 0");
      }
      return query(SQL.page, [limit, offset]);
    },
    async search(_, { query: text, limit }) {
      checkLimit(limit);
      const parsed = tsquery(text);
      if (!parsed) {
        throw new mercurius.ErrorWithProps("the search must contain at least one letter or digit");
      }
      const rows = await query(SQL.search, [parsed, limit]);
      return rows.map((row) => ({ rank: row.rank, entity: row }));
    },
  },
  Mutation: {
    async updateCharacter(_, { entityId, mood }, { pubsub }) {
      const rows = await query(SQL.update, [entityId, mood]);
      const row = rows[0]?.entity_id == null ? null : rows[0];
      if (row) {
        await pubsub.publish({ topic: "CHARACTER_UPDATED", payload: { characterUpdated: row } });
      }
      return row;
    },
  },
  Subscription: {
    characterUpdated: {
      subscribe: async (_, __, { pubsub }) => await pubsub.subscribe("CHARACTER_UPDATED"),
    },
  },
  Character: {
    ...entityFields,
    faction: (row, _, { loaders }) => (row.faction_id == null ? null : loaders.factions.load(row.faction_id)),
    location: (row, _, { loaders }) => (row.location_id == null ? null : loaders.locations.load(row.location_id)),
  },
  Faction: entityFields,
  Location: entityFields,
};

const app = Fastify({ logger: false });
app.register(mercurius, {
  schema,
  resolvers,
  jit: 1,
  graphiql: false,
  // Over WebSockets (graphql-transport-ws or the legacy graphql-ws) on /graphql, with
  // Mercurius's in-process pub/sub.
  subscription: true,
  // DataLoaders live for one request: nothing is cached across requests.
  context: () => ({ loaders: { factions: byId(SQL.factions), locations: byId(SQL.locations) } }),
});
app.get("/health", async () => "ok");

await app.listen({ port, host: "127.0.0.1" });
console.log(`mercurius listening on 127.0.0.1:${port}`);

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    app.close().then(() => pool.end()).finally(() => process.exit(0));
  });
}
