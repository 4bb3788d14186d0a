//! `schema.graphql` is what generated frontends are built from: it must equal the live schema.

#[test]
fn schema_file_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let committed = std::fs::read_to_string(path).expect("schema.graphql at the repository root");
    let live = loregraph::graphql::sdl();
    assert!(
        committed == live,
        "schema.graphql is out of date: regenerate it with `cargo run -- schema > schema.graphql`"
    );
}

#[test]
fn the_core_contract_names_are_present() {
    let sdl = loregraph::graphql::sdl()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for name in [
        "enum Role",
        "register(input: RegisterInput!): AuthPayload!",
        "login(email: String!, password: String!",
        "refreshToken(refreshToken: String!): AuthPayload!",
        "me: User!",
        "systemHealth: SystemHealth!",
    ] {
        assert!(sdl.contains(name), "missing `{name}` in the schema");
    }
}
