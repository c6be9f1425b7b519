//! Alias routes: CreateAlias, GetAlias, UpdateAlias, DeleteAlias and ListAliases.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Label, PageQuery, paginate, parse_body, parse_query};
use crate::error::ApiError;
use crate::function::{Alias, Function, new_revision};
use crate::names::{parse_unqualified, validate_alias_name};
use crate::render;
use crate::state::{Settings, SharedState};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoutingInput {
    #[serde(default)]
    additional_version_weights: BTreeMap<String, f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliasRequest {
    name: Option<String>,
    function_version: Option<String>,
    description: Option<String>,
    routing_config: Option<RoutingInput>,
    revision_id: Option<String>,
}

/// `POST /2015-03-31/functions/{name}/aliases`.
pub async fn create(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Path(raw): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    label.set("CreateAlias", &raw, None);
    let name = parse_unqualified(&raw)?;
    state.begin("CreateAlias", &name).await?;
    let request: AliasRequest = parse_body(&body)?;
    let alias_name = request.name.clone().unwrap_or_default();
    validate_alias_name(&alias_name)?;
    label.set("CreateAlias", &name, Some(&alias_name));

    let settings = state.settings();
    let mut registry = state.lock();
    let function = registry
        .function_mut(&name)
        .ok_or_else(|| ApiError::function_not_found(&settings.arn(&name)))?;
    let version = request.function_version.clone().unwrap_or_default();
    check_target(settings, function, &version)?;
    let weights = routing_weights(settings, function, &version, request.routing_config)?;
    if function.aliases.contains_key(&alias_name) {
        return Err(ApiError::conflict(format!(
            "Alias already exists: {}",
            settings.qualified_arn(&name, &alias_name)
        )));
    }

    let alias = Alias {
        name: alias_name.clone(),
        function_version: version,
        description: request.description.unwrap_or_default(),
        revision_id: new_revision(),
        additional_weights: weights.unwrap_or_default(),
    };
    let body = render::alias(settings, &name, &alias);
    function.aliases.insert(alias_name, alias);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /2015-03-31/functions/{name}/aliases/{alias}`.
pub async fn get(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Path((raw, alias_name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    label.set("GetAlias", &raw, Some(&alias_name));
    let name = parse_unqualified(&raw)?;
    state.begin("GetAlias", &name).await?;

    let settings = state.settings();
    let mut registry = state.lock();
    let function = registry
        .function_mut(&name)
        .ok_or_else(|| ApiError::function_not_found(&settings.arn(&name)))?;
    let alias = function.aliases.get(&alias_name).ok_or_else(|| {
        ApiError::not_found(format!(
            "Cannot find alias arn: {}",
            settings.qualified_arn(&name, &alias_name)
        ))
    })?;
    Ok(Json(render::alias(settings, &name, alias)))
}

/// `PUT /2015-03-31/functions/{name}/aliases/{alias}`.
pub async fn update(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Path((raw, alias_name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    label.set("UpdateAlias", &raw, Some(&alias_name));
    let name = parse_unqualified(&raw)?;
    state.begin("UpdateAlias", &name).await?;
    let request: AliasRequest = parse_body(&body)?;

    let settings = state.settings();
    let mut registry = state.lock();
    let function = registry
        .function_mut(&name)
        .ok_or_else(|| ApiError::function_not_found(&settings.arn(&name)))?;
    let Some(current) = function.aliases.get(&alias_name).cloned() else {
        return Err(ApiError::not_found(format!(
            "Alias not found: {}",
            settings.qualified_arn(&name, &alias_name)
        )));
    };
    if request
        .revision_id
        .as_ref()
        .is_some_and(|revision| *revision != current.revision_id)
    {
        return Err(ApiError::revision_mismatch());
    }
    let version = request
        .function_version
        .clone()
        .unwrap_or(current.function_version.clone());
    check_target(settings, function, &version)?;
    let weights = routing_weights(settings, function, &version, request.routing_config)?;

    let alias = Alias {
        name: alias_name.clone(),
        function_version: version,
        description: request.description.unwrap_or(current.description),
        revision_id: new_revision(),
        additional_weights: weights.unwrap_or(current.additional_weights),
    };
    let body = render::alias(settings, &name, &alias);
    function.aliases.insert(alias_name, alias);
    Ok(Json(body))
}

/// `DELETE /2015-03-31/functions/{name}/aliases/{alias}`: 204 even when the alias is missing.
pub async fn delete(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Path((raw, alias_name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    label.set("DeleteAlias", &raw, Some(&alias_name));
    let name = parse_unqualified(&raw)?;
    state.begin("DeleteAlias", &name).await?;

    let settings = state.settings();
    let mut registry = state.lock();
    let function = registry
        .function_mut(&name)
        .ok_or_else(|| ApiError::function_not_found(&settings.arn(&name)))?;
    function.aliases.remove(&alias_name);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /2015-03-31/functions/{name}/aliases`: alphabetical, optionally filtered by
/// `FunctionVersion`, at most 50 per page.
pub async fn list(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Path(raw): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    label.set("ListAliases", &raw, None);
    let query: PageQuery = parse_query(&uri)?;
    let name = parse_unqualified(&raw)?;
    state.begin("ListAliases", &name).await?;

    let settings = state.settings();
    let mut registry = state.lock();
    let function = registry
        .function_mut(&name)
        .ok_or_else(|| ApiError::function_not_found(&settings.arn(&name)))?;
    let aliases: Vec<Value> = function
        .aliases
        .values()
        .filter(|alias| {
            query
                .function_version
                .as_ref()
                .is_none_or(|version| *version == alias.function_version)
        })
        .map(|alias| render::alias(settings, &name, alias))
        .collect();
    let (page, next_marker) = paginate(aliases, &query)?;
    let mut body = json!({ "Aliases": page });
    if let Some(marker) = next_marker {
        body["NextMarker"] = json!(marker);
    }
    Ok(Json(body))
}

/// Checks that an alias target is `$LATEST` or an existing version.
fn check_target(settings: &Settings, function: &Function, version: &str) -> Result<(), ApiError> {
    if version == "$LATEST" {
        return Ok(());
    }
    let exists = version
        .parse::<u64>()
        .is_ok_and(|number| function.versions.contains_key(&number));
    if exists {
        Ok(())
    } else {
        Err(ApiError::function_not_found(
            &settings.qualified_arn(&function.name, version),
        ))
    }
}

/// Validates `RoutingConfig`: one extra version, a weight in 0..=1, no `$LATEST`.
fn routing_weights(
    settings: &Settings,
    function: &Function,
    primary: &str,
    routing: Option<RoutingInput>,
) -> Result<Option<BTreeMap<String, f64>>, ApiError> {
    let Some(routing) = routing else {
        return Ok(None);
    };
    let weights = routing.additional_version_weights;
    if weights.len() > 1 {
        return Err(ApiError::invalid_parameter(
            "Number of items in AdditionalVersionWeights cannot be greater than 1",
        ));
    }
    for (version, weight) in &weights {
        if !(0.0..=1.0).contains(weight) {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{weight}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]"
            )));
        }
        if version == "$LATEST" || primary == "$LATEST" {
            return Err(ApiError::invalid_parameter(
                "$LATEST is not supported for an alias pointing to more than 1 version",
            ));
        }
        if version == primary {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid function version {version}. Function version {version} is already included in routing configuration."
            )));
        }
        check_target(settings, function, version)?;
    }
    Ok(Some(weights))
}
