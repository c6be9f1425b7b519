//! The initializer: validates the workflow input, reads the function and
//! plans the run, all before anything on the function changes.

use aws_sdk_lambda::types::{LogFormat, SnapStartApplyOn};
use powertune_proto::v1::{FunctionSnapshot, PowerConfiguration, TuningPlan};

use crate::allow_list::AllowList;
use crate::aws::AwsClients;
use crate::failure::TuningError;
use crate::input::{InputDefaults, parse_input, suggest_field};
use crate::lambda::Function;

/// Prefix of every version description this worker writes; the cleaner
/// deletes only versions whose description starts with the run's marker.
pub const TUNING_ID_PREFIX: &str = "powertune";

/// Validates `raw` and reads the function; `run_id` identifies the run in
/// the descriptions of the versions it publishes.
pub async fn initialize(
    clients: &AwsClients,
    defaults: &InputDefaults,
    allow_list: &AllowList,
    raw: &serde_json::Value,
    run_id: &str,
) -> Result<TuningPlan, TuningError> {
    let validated = parse_input(raw, defaults)?;
    let arn = validated.function.to_string();
    allow_list.check(&arn)?;
    let warnings = input_warnings(&validated.unknown_fields, &validated.ignored_fields);
    for warning in &warnings {
        tracing::warn!(function = %arn, "{warning}");
    }

    let retries = clients.retry_counter();
    let function = Function {
        client: clients.lambda(&validated.function.region),
        arn: &arn,
        retries: &retries,
    };
    let config = function.configuration("$LATEST").await?;
    let versions = function.versions().await?;
    let aliases = function.aliases().await?;

    let configurations = plan_configurations(
        &validated.input.power_values,
        validated.input.num,
        validated.input.only_cold_starts,
    );
    if let Some(alias) = configurations
        .iter()
        .flat_map(|configuration| &configuration.aliases)
        .find(|alias| aliases.contains(alias))
    {
        return Err(TuningError::AliasExists {
            function: arn,
            alias: alias.clone(),
        });
    }

    let snapshot = FunctionSnapshot {
        function_arn: arn.clone(),
        function_name: validated.function.name.clone(),
        region: validated.function.region.clone(),
        memory_mb: config
            .memory_size()
            .and_then(|memory| u32::try_from(memory).ok())
            .unwrap_or(128),
        description: config.description().unwrap_or_default().to_owned(),
        architecture: config
            .architectures()
            .first()
            .map(|architecture| architecture.as_str().to_owned())
            .unwrap_or_else(|| "x86_64".to_owned()),
        log_format: config
            .logging_config()
            .and_then(|logging| logging.log_format())
            .map(LogFormat::as_str)
            .unwrap_or("Text")
            .to_owned(),
        timeout_seconds: config
            .timeout()
            .and_then(|timeout| u32::try_from(timeout).ok())
            .unwrap_or(3),
        state: config
            .state()
            .map(|state| state.as_str().to_owned())
            .unwrap_or_default(),
        snap_start: config
            .snap_start()
            .and_then(|snap_start| snap_start.apply_on())
            .is_some_and(|apply_on| *apply_on == SnapStartApplyOn::PublishedVersions),
        max_version_before: versions
            .iter()
            .filter_map(|(number, _)| number.parse::<u64>().ok())
            .max()
            .unwrap_or(0),
        versions_before: versions.into_iter().map(|(number, _)| number).collect(),
        tuning_id: format!("{TUNING_ID_PREFIX} {run_id}"),
    };
    tracing::info!(
        function = %arn,
        memory_mb = snapshot.memory_mb,
        architecture = %snapshot.architecture,
        log_format = %snapshot.log_format,
        power_values = ?validated.input.power_values,
        "planned tuning"
    );

    Ok(TuningPlan {
        strategy: validated.strategy.as_str().to_owned(),
        balanced_weight: validated.input.balanced_weight.unwrap_or(0.5),
        discard_top_bottom: validated.input.discard_top_bottom.unwrap_or(0.2),
        input: Some(validated.input),
        function: Some(snapshot),
        configurations,
        payloads: validated.payloads,
        warnings,
    })
}

/// Describes each ignored input field for the run's output.
fn input_warnings(unknown_fields: &[String], ignored_fields: &[String]) -> Vec<String> {
    let unknown = unknown_fields
        .iter()
        .map(|field| match suggest_field(field) {
            Some(known) => {
                format!("unknown input field `{field}` was ignored; did you mean `{known}`?")
            }
            None => format!("unknown input field `{field}` was ignored"),
        });
    let ignored = ignored_fields.iter().map(|field| match field.as_str() {
        "payload" => "`payload` was ignored because `payloadS3` is set".to_owned(),
        "autoOptimizeAlias" => {
            "`autoOptimizeAlias` was ignored because `autoOptimize` is not true".to_owned()
        }
        other => format!("`{other}` was ignored"),
    });
    unknown.chain(ignored).collect()
}

/// Names the aliases of every memory size: `RAM<power>`, or with
/// `onlyColdStarts` one alias per invocation, `RAM<power>-<n>`.
pub fn plan_configurations(
    power_values: &[u32],
    num: u32,
    only_cold_starts: bool,
) -> Vec<PowerConfiguration> {
    power_values
        .iter()
        .map(|&power| PowerConfiguration {
            power,
            aliases: if only_cold_starts {
                (0..num).map(|n| format!("RAM{power}-{n}")).collect()
            } else {
                vec![format!("RAM{power}")]
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_name_ignored_fields() {
        let warnings = input_warnings(&["strategey".to_owned()], &["autoOptimizeAlias".to_owned()]);

        assert_eq!(warnings.len(), 2);
        assert!(
            warnings[0].contains("did you mean `strategy`"),
            "{}",
            warnings[0]
        );
        assert!(warnings[1].contains("autoOptimize"), "{}", warnings[1]);
    }

    #[test]
    fn one_alias_per_power_value() {
        let configurations = plan_configurations(&[128, 512], 10, false);

        assert_eq!(configurations.len(), 2);
        assert_eq!(configurations[0].aliases, vec!["RAM128"]);
        assert_eq!(configurations[1].aliases, vec!["RAM512"]);
    }

    #[test]
    fn only_cold_starts_gives_alias_per_invocation() {
        let configurations = plan_configurations(&[256], 3, true);

        assert_eq!(
            configurations[0].aliases,
            vec!["RAM256-0", "RAM256-1", "RAM256-2"]
        );
    }
}
