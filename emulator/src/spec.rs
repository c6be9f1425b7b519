//! Function specifications: the configuration and performance profile of a function created at
//! start (samples, `--functions FILE`) or at run time (`POST /_emulator/functions`), and the
//! `EMULATOR_*` environment variables that set a profile through CreateFunction or
//! UpdateFunctionConfiguration.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::EmulatorError;
use crate::model::{Architecture, Profile};

/// Log format of a function (`LoggingConfig.LogFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LogFormat {
    #[default]
    Text,
    #[serde(rename = "JSON")]
    Json,
}

impl LogFormat {
    /// Name of the format as the Lambda API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "Text",
            LogFormat::Json => "JSON",
        }
    }
}

/// A function with its configuration and performance profile.
///
/// The same shape is read from TOML (`[[function]]` tables) and from JSON; unknown keys are
/// rejected so a misspelt field is reported instead of ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FunctionSpec {
    pub name: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub description: String,
    pub runtime: String,
    pub architecture: Architecture,
    pub log_format: LogFormat,
    /// SnapStart on published versions (`SnapStart.ApplyOn=PublishedVersions`).
    pub snapstart: bool,
    pub reserved_concurrency: Option<u32>,
    pub environment: BTreeMap<String, String>,
    pub profile: Profile,
}

impl Default for FunctionSpec {
    fn default() -> Self {
        FunctionSpec {
            name: String::new(),
            memory_mb: 128,
            timeout_s: 3,
            description: String::new(),
            runtime: "python3.12".to_owned(),
            architecture: Architecture::X86_64,
            log_format: LogFormat::Text,
            snapstart: false,
            reserved_concurrency: None,
            environment: BTreeMap::new(),
            profile: Profile::default(),
        }
    }
}

impl FunctionSpec {
    /// Checks the name, limits and profile.
    pub fn validate(&self) -> Result<(), EmulatorError> {
        let invalid = |reason: String| EmulatorError::InvalidFunction {
            name: self.name.clone(),
            reason,
        };
        if crate::names::parse_unqualified(&self.name).is_err() {
            return Err(invalid(
                "the name must be 1-64 characters of letters, digits, `-` and `_`".to_owned(),
            ));
        }
        if !(128..=10240).contains(&self.memory_mb) {
            return Err(invalid(format!(
                "`memory_mb` is {}; use a value in 128..=10240",
                self.memory_mb
            )));
        }
        if !(1..=900).contains(&self.timeout_s) {
            return Err(invalid(format!(
                "`timeout_s` is {}; use a value in 1..=900",
                self.timeout_s
            )));
        }
        self.profile.validate().map_err(invalid)?;
        profile_with_environment(&self.profile, &self.environment).map_err(invalid)?;
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FunctionsFile {
    #[serde(default, rename = "function")]
    functions: Vec<FunctionSpec>,
}

/// Reads `[[function]]` tables from a TOML file.
///
/// A syntax error or an unknown or mistyped field is reported with the file, line and field.
pub fn load_functions_file(path: &Path) -> Result<Vec<FunctionSpec>, EmulatorError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| EmulatorError::ReadFunctionsFile {
            path: path.to_owned(),
            source,
        })?;
    let file: FunctionsFile =
        toml::from_str(&text).map_err(|source| EmulatorError::ParseFunctionsFile {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
    for spec in &file.functions {
        spec.validate()?;
    }
    Ok(file.functions)
}

/// Environment variables that override profile fields, and the field each one sets.
pub const PROFILE_VARIABLES: [(&str, &str); 12] = [
    ("EMULATOR_INIT_MS", "init_ms"),
    ("EMULATOR_CPU_MS", "cpu_ms"),
    ("EMULATOR_THREADS", "threads"),
    ("EMULATOR_IO_MS", "io_ms"),
    ("EMULATOR_WORKING_SET_MB", "working_set_mb"),
    ("EMULATOR_GC_WEIGHT", "gc_weight"),
    ("EMULATOR_JITTER", "jitter"),
    ("EMULATOR_ERROR_RATE", "error_rate"),
    ("EMULATOR_ERROR_TYPE", "error_type"),
    ("EMULATOR_ARM64_CPU_FACTOR", "arm64_cpu_factor"),
    ("EMULATOR_RESTORE_MS", "restore_ms"),
    ("EMULATOR_LOG_LINES", "log_lines"),
];

/// Applies the `EMULATOR_*` variables of `environment` to `base`.
///
/// Returns a message naming the variable when a value does not parse or is out of range.
pub fn profile_with_environment(
    base: &Profile,
    environment: &BTreeMap<String, String>,
) -> Result<Profile, String> {
    let mut profile = base.clone();
    for (key, value) in environment {
        if !key.starts_with("EMULATOR_") {
            continue;
        }
        let float = || {
            value
                .parse::<f64>()
                .map_err(|_| format!("{key}={value} is not a number"))
        };
        let integer = || {
            value
                .parse::<u32>()
                .map_err(|_| format!("{key}={value} is not a non-negative integer"))
        };
        match key.as_str() {
            "EMULATOR_INIT_MS" => profile.init_ms = float()?,
            "EMULATOR_CPU_MS" => profile.cpu_ms = float()?,
            "EMULATOR_THREADS" => profile.threads = integer()?,
            "EMULATOR_IO_MS" => profile.io_ms = float()?,
            "EMULATOR_WORKING_SET_MB" => profile.working_set_mb = integer()?,
            "EMULATOR_GC_WEIGHT" => profile.gc_weight = float()?,
            "EMULATOR_JITTER" => profile.jitter = float()?,
            "EMULATOR_ERROR_RATE" => profile.error_rate = float()?,
            "EMULATOR_ERROR_TYPE" => profile.error_type = value.clone(),
            "EMULATOR_ARM64_CPU_FACTOR" => profile.arm64_cpu_factor = float()?,
            "EMULATOR_RESTORE_MS" => profile.restore_ms = float()?,
            "EMULATOR_LOG_LINES" => profile.log_lines = integer()?,
            "EMULATOR_RESPONSE" => {
                let response = serde_json::from_str(value)
                    .map_err(|error| format!("{key} is not valid JSON: {error}"))?;
                profile.response = Some(response);
            }
            _ => {
                let known: Vec<&str> = PROFILE_VARIABLES.iter().map(|(name, _)| *name).collect();
                return Err(format!(
                    "unknown variable {key}; use one of {} or EMULATOR_RESPONSE",
                    known.join(", ")
                ));
            }
        }
    }
    profile
        .validate()
        .map_err(|message| format!("profile from EMULATOR_* variables: {message}"))?;
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write_file(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    #[test]
    fn functions_file_loads_profiles() {
        let file = write_file(
            "[[function]]\nname = \"a\"\nmemory_mb = 256\n[function.profile]\ncpu_ms = 40.0\n",
        );
        let specs = load_functions_file(file.path()).unwrap();
        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0].memory_mb, 256);
        assert_eq!(specs[0].profile.cpu_ms, 40.0);
        assert_eq!(specs[0].profile.io_ms, Profile::default().io_ms);
    }

    #[test]
    fn bad_field_names_file_line_and_field() {
        let file = write_file("[[function]]\nname = \"a\"\n\n[function.profile]\ncpu_msx = 1.0\n");
        let message = load_functions_file(file.path()).unwrap_err().to_string();
        assert!(
            message.contains(&file.path().display().to_string()),
            "{message}"
        );
        assert!(message.contains("line 5"), "{message}");
        assert!(message.contains("cpu_msx"), "{message}");
    }

    #[test]
    fn mistyped_value_is_reported() {
        let file = write_file("[[function]]\nname = \"a\"\nmemory_mb = \"big\"\n");
        let message = load_functions_file(file.path()).unwrap_err().to_string();
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("memory_mb"), "{message}");
    }

    #[test]
    fn out_of_range_memory_names_the_function() {
        let file = write_file("[[function]]\nname = \"a\"\nmemory_mb = 64\n");
        let message = load_functions_file(file.path()).unwrap_err().to_string();
        assert!(
            message.contains("`a`") && message.contains("memory_mb"),
            "{message}"
        );
    }

    #[test]
    fn environment_overrides_profile() {
        let environment = BTreeMap::from([
            ("EMULATOR_CPU_MS".to_owned(), "250".to_owned()),
            ("EMULATOR_ERROR_TYPE".to_owned(), "Boom".to_owned()),
            ("OTHER".to_owned(), "x".to_owned()),
        ]);
        let profile = profile_with_environment(&Profile::default(), &environment).unwrap();
        assert_eq!(profile.cpu_ms, 250.0);
        assert_eq!(profile.error_type, "Boom");
    }

    #[test]
    fn bad_environment_value_names_the_variable() {
        let environment = BTreeMap::from([("EMULATOR_THREADS".to_owned(), "many".to_owned())]);
        let message = profile_with_environment(&Profile::default(), &environment).unwrap_err();
        assert!(message.contains("EMULATOR_THREADS"), "{message}");
        let unknown = BTreeMap::from([("EMULATOR_CPUMS".to_owned(), "1".to_owned())]);
        let message = profile_with_environment(&Profile::default(), &unknown).unwrap_err();
        assert!(message.contains("EMULATOR_CPUMS"), "{message}");
    }
}
