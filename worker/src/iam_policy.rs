//! `powertune iam-policy`: prints the least-privilege IAM policy that the
//! worker's AWS credentials need to tune the given functions.
//!
//! One statement per activity, so that each permission can be traced to the
//! step that uses it. Every function statement lists the unqualified ARN and
//! `ARN:*`, because the tuner reads and changes `$LATEST` and also works on the
//! versions and `RAM<size>` aliases that it creates.

use anyhow::{Result, bail};
use clap::Args;
use powertune_activities::arn::FunctionArn;
use serde::Serialize;

#[derive(Args)]
pub struct IamPolicyArgs {
    /// Unqualified ARN of a function to tune; repeat the flag or list several ARNs
    /// separated by spaces
    #[arg(long = "function", value_name = "ARN", required = true, num_args = 1..)]
    pub functions: Vec<FunctionArn>,

    /// Unqualified ARN of the `preProcessorARN` function, invoked before each invocation
    #[arg(long, value_name = "ARN")]
    pub pre_processor: Option<FunctionArn>,

    /// Unqualified ARN of the `postProcessorARN` function, invoked after each invocation
    #[arg(long, value_name = "ARN")]
    pub post_processor: Option<FunctionArn>,

    /// `payloadS3` object read as the invocation payload, `s3://BUCKET/KEY`
    #[arg(long, value_name = "S3_URI", value_parser = parse_s3_uri)]
    pub payload_s3: Option<S3Object>,
}

/// An S3 object named by an `s3://bucket/key` URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Object {
    pub bucket: String,
    pub key: String,
}

/// The Lambda actions of each activity, in the order the workflow runs them.
/// The executor also invokes the pre- and post-processors; those get their own
/// statements, limited to `lambda:InvokeFunction`.
const ACTIVITY_ACTIONS: &[(&str, &[&str])] = &[
    (
        "Initializer",
        &[
            "lambda:GetFunctionConfiguration",
            "lambda:ListAliases",
            "lambda:ListVersionsByFunction",
        ],
    ),
    (
        "Publisher",
        &[
            "lambda:CreateAlias",
            "lambda:GetFunctionConfiguration",
            "lambda:PublishVersion",
            "lambda:UpdateAlias",
            "lambda:UpdateFunctionConfiguration",
        ],
    ),
    (
        "Executor",
        &["lambda:GetFunctionConfiguration", "lambda:InvokeFunction"],
    ),
    // NOTE: the cleaner calls DeleteFunction only with a version qualifier, to
    // remove the versions it published. IAM has no condition key that limits
    // DeleteFunction to qualified calls, so this statement also permits
    // deleting the whole function.
    (
        "Cleaner",
        &[
            "lambda:DeleteAlias",
            "lambda:DeleteFunction",
            "lambda:GetFunctionConfiguration",
            "lambda:ListVersionsByFunction",
            "lambda:UpdateFunctionConfiguration",
        ],
    ),
    (
        "Optimizer",
        &[
            "lambda:CreateAlias",
            "lambda:GetFunctionConfiguration",
            "lambda:PublishVersion",
            "lambda:UpdateAlias",
            "lambda:UpdateFunctionConfiguration",
        ],
    ),
];

#[derive(Serialize, Debug, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct PolicyDocument {
    version: &'static str,
    statement: Vec<Statement>,
}

#[derive(Serialize, Debug, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Statement {
    sid: &'static str,
    effect: &'static str,
    action: Vec<&'static str>,
    resource: Vec<String>,
}

impl Statement {
    fn allow(sid: &'static str, actions: &[&'static str], resource: Vec<String>) -> Self {
        Self {
            sid,
            effect: "Allow",
            action: actions.to_vec(),
            resource,
        }
    }
}

/// Prints the policy document on stdout.
pub fn run(args: &IamPolicyArgs) -> Result<()> {
    let document = policy_document(args)?;
    crate::print_stdout(&serde_json::to_string_pretty(&document)?)
}

fn policy_document(args: &IamPolicyArgs) -> Result<PolicyDocument> {
    let mut functions: Vec<&FunctionArn> = Vec::new();
    for function in &args.functions {
        if !functions.contains(&function) {
            functions.push(function);
        }
    }
    let partition = &functions[0].partition;
    if let Some(other) = functions
        .iter()
        .find(|function| &function.partition != partition)
    {
        bail!(
            "`{other}` is in partition `{}` but `{}` is in `{partition}`; one worker's credentials reach one partition, \
             so print a policy per partition",
            other.partition,
            functions[0]
        );
    }

    let function_resources: Vec<String> = functions
        .iter()
        .flat_map(|function| [function.unqualified(), function.qualified("*")])
        .collect();
    let mut statement: Vec<Statement> = ACTIVITY_ACTIONS
        .iter()
        .map(|(sid, actions)| Statement::allow(sid, actions, function_resources.clone()))
        .collect();

    if let Some(processor) = &args.pre_processor {
        statement.push(Statement::allow(
            "PreProcessor",
            &["lambda:InvokeFunction"],
            vec![processor.unqualified()],
        ));
    }
    if let Some(processor) = &args.post_processor {
        statement.push(Statement::allow(
            "PostProcessor",
            &["lambda:InvokeFunction"],
            vec![processor.unqualified()],
        ));
    }
    if let Some(object) = &args.payload_s3 {
        let resource = format!("arn:{partition}:s3:::{}/{}", object.bucket, object.key);
        statement.push(Statement::allow(
            "PayloadS3",
            &["s3:GetObject"],
            vec![resource],
        ));
    }

    Ok(PolicyDocument {
        version: "2012-10-17",
        statement,
    })
}

fn parse_s3_uri(text: &str) -> Result<S3Object, String> {
    let invalid = |reason: &str| {
        format!("`{text}` is not an S3 object URI: {reason}; use the form s3://BUCKET/KEY")
    };
    let rest = text
        .strip_prefix("s3://")
        .ok_or_else(|| invalid("it does not start with s3://"))?;
    let (bucket, key) = rest
        .split_once('/')
        .ok_or_else(|| invalid("it has no object key"))?;

    if bucket.is_empty() {
        return Err(invalid("the bucket name is empty"));
    }
    if key.is_empty() {
        return Err(invalid("the object key is empty"));
    }
    Ok(S3Object {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Command, try_parse_isolated};

    const FN: &str = "arn:aws:lambda:us-east-1:123456789012:function:fn";

    fn parse(args: &[&str]) -> Result<IamPolicyArgs, clap::Error> {
        let cli = try_parse_isolated(&[&["iam-policy"], args].concat())?;
        match cli.command {
            Command::IamPolicy(args) => Ok(args),
            _ => unreachable!("the iam-policy subcommand was parsed"),
        }
    }

    fn document_json(args: &[&str]) -> String {
        let document =
            policy_document(&parse(args).expect("arguments parse")).expect("policy builds");
        serde_json::to_string_pretty(&document).expect("policy serializes")
    }

    #[test]
    fn policy_for_one_function() {
        let expected = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Initializer",
      "Effect": "Allow",
      "Action": [
        "lambda:GetFunctionConfiguration",
        "lambda:ListAliases",
        "lambda:ListVersionsByFunction"
      ],
      "Resource": [
        "arn:aws:lambda:us-east-1:123456789012:function:fn",
        "arn:aws:lambda:us-east-1:123456789012:function:fn:*"
      ]
    },
    {
      "Sid": "Publisher",
      "Effect": "Allow",
      "Action": [
        "lambda:CreateAlias",
        "lambda:GetFunctionConfiguration",
        "lambda:PublishVersion",
        "lambda:UpdateAlias",
        "lambda:UpdateFunctionConfiguration"
      ],
      "Resource": [
        "arn:aws:lambda:us-east-1:123456789012:function:fn",
        "arn:aws:lambda:us-east-1:123456789012:function:fn:*"
      ]
    },
    {
      "Sid": "Executor",
      "Effect": "Allow",
      "Action": [
        "lambda:GetFunctionConfiguration",
        "lambda:InvokeFunction"
      ],
      "Resource": [
        "arn:aws:lambda:us-east-1:123456789012:function:fn",
        "arn:aws:lambda:us-east-1:123456789012:function:fn:*"
      ]
    },
    {
      "Sid": "Cleaner",
      "Effect": "Allow",
      "Action": [
        "lambda:DeleteAlias",
        "lambda:DeleteFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:ListVersionsByFunction",
        "lambda:UpdateFunctionConfiguration"
      ],
      "Resource": [
        "arn:aws:lambda:us-east-1:123456789012:function:fn",
        "arn:aws:lambda:us-east-1:123456789012:function:fn:*"
      ]
    },
    {
      "Sid": "Optimizer",
      "Effect": "Allow",
      "Action": [
        "lambda:CreateAlias",
        "lambda:GetFunctionConfiguration",
        "lambda:PublishVersion",
        "lambda:UpdateAlias",
        "lambda:UpdateFunctionConfiguration"
      ],
      "Resource": [
        "arn:aws:lambda:us-east-1:123456789012:function:fn",
        "arn:aws:lambda:us-east-1:123456789012:function:fn:*"
      ]
    }
  ]
}"#;

        assert_eq!(document_json(&["--function", FN]), expected);
    }

    #[test]
    fn optional_statements_appended() {
        let expected_tail = r#"    {
      "Sid": "PreProcessor",
      "Effect": "Allow",
      "Action": [
        "lambda:InvokeFunction"
      ],
      "Resource": [
        "arn:aws:lambda:us-east-1:123456789012:function:pre"
      ]
    },
    {
      "Sid": "PostProcessor",
      "Effect": "Allow",
      "Action": [
        "lambda:InvokeFunction"
      ],
      "Resource": [
        "arn:aws:lambda:us-east-1:123456789012:function:post"
      ]
    },
    {
      "Sid": "PayloadS3",
      "Effect": "Allow",
      "Action": [
        "s3:GetObject"
      ],
      "Resource": [
        "arn:aws:s3:::payloads/tuning/input.json"
      ]
    }
  ]
}"#;

        let json = document_json(&[
            "--function",
            FN,
            "--pre-processor",
            "arn:aws:lambda:us-east-1:123456789012:function:pre",
            "--post-processor",
            "arn:aws:lambda:us-east-1:123456789012:function:post",
            "--payload-s3",
            "s3://payloads/tuning/input.json",
        ]);

        assert!(json.ends_with(expected_tail), "{json}");
    }

    #[test]
    fn several_functions_share_statements() {
        let args = parse(&[
            "--function",
            FN,
            "arn:aws:lambda:us-east-1:123456789012:function:other",
            "--function",
            FN,
        ])
        .expect("arguments parse");

        let document = policy_document(&args).expect("policy builds");

        assert_eq!(document.statement.len(), 5);
        for statement in &document.statement {
            assert_eq!(
                statement.resource,
                vec![
                    FN.to_owned(),
                    format!("{FN}:*"),
                    "arn:aws:lambda:us-east-1:123456789012:function:other".to_owned(),
                    "arn:aws:lambda:us-east-1:123456789012:function:other:*".to_owned(),
                ],
                "resources of {}",
                statement.sid
            );
        }
    }

    #[test]
    fn china_partition_used_for_s3() {
        let json = document_json(&[
            "--function",
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:fn",
            "--payload-s3",
            "s3://bucket/key",
        ]);

        assert!(json.contains("\"arn:aws-cn:s3:::bucket/key\""), "{json}");
    }

    #[test]
    fn mixed_partitions_rejected() {
        let args = parse(&[
            "--function",
            FN,
            "--function",
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:fn",
        ])
        .expect("arguments parse");

        let error = policy_document(&args).expect_err("mixed partitions are rejected");

        assert!(error.to_string().contains("partition `aws-cn`"), "{error}");
    }

    #[test]
    fn qualified_function_rejected() {
        let error = parse(&["--function", &format!("{FN}:3")])
            .err()
            .expect("a qualified ARN is rejected");

        let message = error.to_string();
        assert!(
            message.contains(
                "pass the unqualified ARN `arn:aws:lambda:us-east-1:123456789012:function:fn`"
            ),
            "{message}"
        );
    }

    #[test]
    fn qualified_processor_rejected() {
        let error = parse(&["--function", FN, "--pre-processor", &format!("{FN}:prod")])
            .err()
            .expect("a qualified ARN is rejected");

        assert!(error.to_string().contains("--pre-processor"), "{error}");
    }

    #[test]
    fn function_required() {
        let error = parse(&[]).err().expect("--function is required");

        assert_eq!(
            error.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn s3_uri_parsed() {
        assert_eq!(
            parse_s3_uri("s3://bucket/dir/key.json"),
            Ok(S3Object {
                bucket: "bucket".into(),
                key: "dir/key.json".into()
            })
        );
    }

    #[test]
    fn invalid_s3_uris_rejected() {
        let cases = [
            ("https://bucket/key", "does not start with s3://"),
            ("s3://bucket", "has no object key"),
            ("s3:///key", "bucket name is empty"),
            ("s3://bucket/", "object key is empty"),
        ];
        for (uri, reason) in cases {
            let error = parse_s3_uri(uri).unwrap_err();
            assert!(error.contains(&format!("`{uri}`")), "{error}");
            assert!(error.contains(reason), "{uri}: {error}");
        }
    }
}
