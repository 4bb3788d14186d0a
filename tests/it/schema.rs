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
    // The signatures without their descriptions (block strings, between pairs of `"""`): an
    // argument with a description puts every argument of its field on a line of its own.
    let without_descriptions: String = loregraph::graphql::sdl()
        .split("\"\"\"")
        .step_by(2)
        .collect();
    let sdl = without_descriptions
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("( ", "(")
        .replace(" )", ")");
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

/// What a client reads about each part of the schema (GraphiQL's docs, generated types): every
/// type, field, argument, input field and enum value says what it is.
#[tokio::test]
async fn every_part_of_the_schema_is_described() {
    let schema = loregraph::graphql::schema_builder(&loregraph::config::Limits::default()).finish();
    let response = schema
        .execute(
            "{ __schema { types { name kind description \
               fields(includeDeprecated: true) { name description args { name description } } \
               inputFields { name description } \
               enumValues(includeDeprecated: true) { name description } } } }",
        )
        .await;
    assert!(
        response.errors.is_empty(),
        "the introspection query failed: {:?}",
        response.errors
    );
    let data = response
        .data
        .into_json()
        .expect("introspection answers JSON");
    let undescribed = |part: &serde_json::Value| {
        part["description"]
            .as_str()
            .is_none_or(|text| text.trim().is_empty())
    };
    let name_of = |part: &serde_json::Value| part["name"].as_str().unwrap_or_default().to_owned();
    let mut missing = Vec::new();
    let types = data["__schema"]["types"]
        .as_array()
        .expect("the schema's types");
    for ty in types {
        let type_name = name_of(ty);
        // The introspection types and the built-in scalars are GraphQL's, not ours.
        if type_name.starts_with("__")
            || ["String", "Int", "Float", "Boolean", "ID"].contains(&type_name.as_str())
        {
            continue;
        }
        if undescribed(ty) {
            missing.push(type_name.clone());
        }
        for field in ty["fields"].as_array().into_iter().flatten() {
            let field_name = name_of(field);
            if undescribed(field) {
                missing.push(format!("{type_name}.{field_name}"));
            }
            for arg in field["args"].as_array().into_iter().flatten() {
                if undescribed(arg) {
                    missing.push(format!("{type_name}.{field_name}({})", name_of(arg)));
                }
            }
        }
        for list in ["inputFields", "enumValues"] {
            for part in ty[list].as_array().into_iter().flatten() {
                if undescribed(part) {
                    missing.push(format!("{type_name}.{}", name_of(part)));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} parts of the schema have no description (a `///` comment, or `desc` on an \
         argument):\n{}",
        missing.len(),
        missing.join("\n")
    );
}
