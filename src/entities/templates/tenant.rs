//! A tenant's own templates laid over the package's: its schemas validate its entities, its
//! markdown templates order its files, stamp their version and add entity selectors.

use super::catalog::{TemplateCatalog, TemplateSource};
use super::package;
use crate::entities::store::templates::TemplateRow;
use crate::entities::types::EntityType;

impl TemplateCatalog {
    /// This catalog with the tenant's templates in force over it. A stored schema that no
    /// longer compiles (the package's shared schemas changed under it) leaves the package's in
    /// force for that type, and says so in the log.
    pub fn with_tenant(&self, rows: &[TemplateRow]) -> TemplateCatalog {
        let mut catalog = self.clone();
        for row in rows {
            let Some(entity_type) = EntityType::from_slug(&row.entity_type) else {
                continue;
            };
            if let Some(schema) = &row.json_schema {
                match catalog.compile_tenant_schema(schema) {
                    Ok(validator) => catalog.set_schema(
                        entity_type,
                        schema.clone(),
                        validator,
                        TemplateSource::Tenant,
                    ),
                    Err(error) => tracing::warn!(
                        entity_type = %row.entity_type,
                        version = row.version,
                        error = %error,
                        "a tenant's schema no longer compiles; the package's is in force"
                    ),
                }
            }
            if let Some(content) = &row.content {
                let name = catalog.type_template(entity_type).main_template.clone();
                let mut markdown =
                    package::markdown_template(name, content.clone(), TemplateSource::Tenant);
                markdown.entity_type = Some(entity_type);
                catalog.set_main_template(entity_type, &markdown);
                catalog.add_references(
                    entity_type,
                    package::field_config_references(&markdown.frontmatter),
                );
                catalog.put_template(markdown);
            }
        }
        catalog
    }
}
