#[cfg(test)]
#[macro_use]
mod test_harness;

mod rules;
mod suggestion;
mod utils;
mod visitor;
mod visitors;

pub use visitor::VisitorContext;
use visitor::{VisitorNil, visit};

use crate::{
    CacheControl, ServerError, Variables,
    parser::types::{DocumentOperations, ExecutableDocument},
    registry::Registry,
};

/// Validation results.
#[derive(Debug, Copy, Clone)]
pub struct ValidationResult {
    /// Cache control
    pub cache_control: CacheControl,

    /// Query complexity
    pub complexity: usize,

    /// Query depth
    pub depth: usize,
}

/// Validation mode
#[derive(Copy, Clone, Debug)]
pub enum ValidationMode {
    /// Execute all validation rules.
    Strict,

    /// The executor itself also has error handling, so it can improve
    /// performance, but it can lose some error messages.
    Fast,
}

pub(crate) fn check_rules(
    registry: &Registry,
    doc: &ExecutableDocument,
    variables: Option<&Variables>,
    operation_name: Option<&str>,
    mode: ValidationMode,
    limit_complexity: Option<usize>,
    limit_depth: Option<usize>,
) -> Result<ValidationResult, Vec<ServerError>> {
    let mut cache_control = CacheControl::default();
    let mut complexity = 0;
    let mut depth = 0;

    let mut ctx = VisitorContext::new(registry, doc, variables, operation_name);
    let errors = match mode {
        ValidationMode::Strict => {
            let mut visitor = VisitorNil
                .with(rules::ArgumentsOfCorrectType::default())
                .with(rules::DefaultValuesOfCorrectType)
                .with(rules::FieldsOnCorrectType)
                .with(rules::FragmentsOnCompositeTypes)
                .with(rules::KnownArgumentNames::default())
                .with(rules::NoFragmentCycles::default())
                .with(rules::KnownFragmentNames)
                .with(rules::KnownTypeNames)
                .with(rules::NoUndefinedVariables::default())
                .with(rules::NoUnusedFragments::default())
                .with(rules::NoUnusedVariables::default())
                .with(rules::UniqueArgumentNames::default())
                .with(rules::UniqueVariableNames::default())
                .with(rules::VariablesAreInputTypes)
                .with(rules::VariableInAllowedPosition::default())
                .with(rules::ScalarLeafs)
                .with(rules::PossibleFragmentSpreads::default())
                .with(rules::ProvidedNonNullArguments)
                .with(rules::KnownDirectives::default())
                .with(rules::DirectivesUnique)
                .with(rules::OverlappingFieldsCanBeMerged)
                .with(rules::UploadFile);
            visit(&mut visitor, &mut ctx, doc);

            let mut visitor = VisitorNil
                .with(visitors::CacheControlCalculate {
                    cache_control: &mut cache_control,
                })
                .with(visitors::ComplexityCalculate::new(&mut complexity))
                .with(visitors::DepthCalculate::new(&mut depth));
            visit(&mut visitor, &mut ctx, doc);
            ctx.errors
        }
        ValidationMode::Fast => {
            let mut visitor = VisitorNil
                .with(rules::NoFragmentCycles::default())
                .with(rules::UploadFile)
                .with(visitors::CacheControlCalculate {
                    cache_control: &mut cache_control,
                })
                .with(visitors::ComplexityCalculate::new(&mut complexity))
                .with(visitors::DepthCalculate::new(&mut depth));
            visit(&mut visitor, &mut ctx, doc);
            ctx.errors
        }
    };

    // check limit
    if let Some(limit_complexity) = limit_complexity
        && complexity > limit_complexity
    {
        return Err(vec![ServerError::new("Query is too complex.", None)]);
    }

    if let Some(limit_depth) = limit_depth
        && depth > limit_depth
    {
        return Err(vec![ServerError::new("Query is nested too deep.", None)]);
    }

    if !errors.is_empty() {
        return Err(errors.into_iter().map(Into::into).collect());
    }

    Ok(ValidationResult {
        cache_control,
        complexity,
        depth,
    })
}

/// Patched in (see PATCHES.md): what validating one document found, by operation name, kept
/// beside the parsed document so that a request sending the same document again runs only the
/// rule whose verdict depends on the variables' values (`ArgumentsOfCorrectType`, the
/// arguments with the variables put in). Everything else validation computes depends on the
/// document and the registry alone: the other rules, the cache control, and depth and
/// complexity as long as no field's complexity is a function of its arguments' values (a
/// registry with such a field keeps no verdicts).
///
/// A memo belongs to one document text and one registry. It keeps only successful verdicts of
/// Strict validation, only for operation names the document defines (a document with a single
/// operation may hold it under its name and under no name), and none at all when a field of the
/// registry computes its complexity from its arguments; a verdict recalled is checked against
/// the caller's complexity and depth limits again.
#[derive(Debug, Default)]
pub struct ValidationMemo {
    verdicts: std::sync::RwLock<Vec<(Option<String>, ValidationResult)>>,
}

impl ValidationMemo {
    fn recall(&self, operation_name: Option<&str>) -> Option<ValidationResult> {
        let verdicts = self
            .verdicts
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        verdicts
            .iter()
            .find(|(name, _)| name.as_deref() == operation_name)
            .map(|(_, verdict)| *verdict)
    }

    fn remember(&self, operation_name: Option<&str>, verdict: ValidationResult) {
        let mut verdicts = self
            .verdicts
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        if !verdicts
            .iter()
            .any(|(name, _)| name.as_deref() == operation_name)
        {
            verdicts.push((operation_name.map(str::to_owned), verdict));
        }
    }
}

/// Patched in: validates a document, through `memo` when there is one.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_rules_memoized(
    registry: &Registry,
    doc: &ExecutableDocument,
    variables: &Variables,
    operation_name: Option<&str>,
    mode: ValidationMode,
    limit_complexity: Option<usize>,
    limit_depth: Option<usize>,
    memo: Option<&ValidationMemo>,
) -> Result<ValidationResult, Vec<ServerError>> {
    // The memo keeps Strict verdicts only, and only for a registry whose complexity depends
    // on the document alone.
    let Some(memo) = memo.filter(|_| matches!(mode, ValidationMode::Strict)) else {
        return check_rules(
            registry,
            doc,
            Some(variables),
            operation_name,
            mode,
            limit_complexity,
            limit_depth,
        );
    };
    if let Some(verdict) = memo.recall(operation_name) {
        // The limits are the caller's: a verdict kept under looser ones is not taken as is.
        if limit_complexity.is_some_and(|limit| verdict.complexity > limit) {
            return Err(vec![ServerError::new("Query is too complex.", None)]);
        }
        if limit_depth.is_some_and(|limit| verdict.depth > limit) {
            return Err(vec![ServerError::new("Query is nested too deep.", None)]);
        }
        if defines_variables(doc) {
            check_argument_values(registry, doc, variables, operation_name)?;
        }
        return Ok(verdict);
    }
    let verdict = check_rules(
        registry,
        doc,
        Some(variables),
        operation_name,
        mode,
        limit_complexity,
        limit_depth,
    )?;
    if defines_operation(doc, operation_name) && !computes_complexity(registry) {
        memo.remember(operation_name, verdict);
    }
    Ok(verdict)
}

/// Whether any field's complexity is computed from its arguments (`complexity = "…"`): then a
/// document's complexity depends on the variables, and its verdict cannot be kept.
fn computes_complexity(registry: &Registry) -> bool {
    registry.types.values().any(|ty| match ty {
        crate::registry::MetaType::Object { fields, .. }
        | crate::registry::MetaType::Interface { fields, .. } => fields
            .values()
            .any(|field| field.compute_complexity.is_some()),
        _ => false,
    })
}

/// The one rule whose verdict depends on the variables' values: every argument, with the
/// variables put in, is a valid value of its type.
fn check_argument_values(
    registry: &Registry,
    doc: &ExecutableDocument,
    variables: &Variables,
    operation_name: Option<&str>,
) -> Result<(), Vec<ServerError>> {
    let mut ctx = VisitorContext::new(registry, doc, Some(variables), operation_name);
    let mut visitor = VisitorNil.with(rules::ArgumentsOfCorrectType::default());
    visit(&mut visitor, &mut ctx, doc);
    if ctx.errors.is_empty() {
        Ok(())
    } else {
        Err(ctx.errors.into_iter().map(Into::into).collect())
    }
}

fn defines_variables(doc: &ExecutableDocument) -> bool {
    doc.operations
        .iter()
        .any(|(_, operation)| !operation.node.variable_definitions.is_empty())
}

/// Whether `operation_name` selects an operation of the document (as `prepare_request` picks
/// it), so a memo never keeps a verdict under a name the client made up.
fn defines_operation(doc: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    match (&doc.operations, operation_name) {
        (DocumentOperations::Single(_), None) => true,
        (DocumentOperations::Single(_), Some(_)) => false,
        (DocumentOperations::Multiple(operations), None) => operations.len() == 1,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.contains_key(name),
    }
}
