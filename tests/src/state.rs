//! What "the function is exactly as before" means in the tests: memory,
//! description, published versions and aliases.

use anyhow::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionState {
    pub memory_mb: i32,
    pub description: String,
    pub versions: Vec<String>,
    pub aliases: Vec<String>,
}

impl FunctionState {
    pub async fn read(lambda: &aws_sdk_lambda::Client, function: &str) -> Result<Self> {
        let config = lambda
            .get_function_configuration()
            .function_name(function)
            .qualifier("$LATEST")
            .send()
            .await?;
        let versions = lambda
            .list_versions_by_function()
            .function_name(function)
            .max_items(50)
            .send()
            .await?;
        let aliases = lambda
            .list_aliases()
            .function_name(function)
            .max_items(50)
            .send()
            .await?;
        Ok(Self {
            memory_mb: config.memory_size().unwrap_or_default(),
            description: config.description().unwrap_or_default().to_owned(),
            versions: versions
                .versions()
                .iter()
                .filter_map(|version| version.version().map(str::to_owned))
                .collect(),
            aliases: aliases
                .aliases()
                .iter()
                .filter_map(|alias| alias.name().map(str::to_owned))
                .collect(),
        })
    }
}
