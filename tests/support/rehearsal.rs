//! The deploy rehearsal: template.yaml, translated by the SAM translator
//! (scripts/sam_translate.py), created as a stack on the moto server's
//! CloudFormation, in either mode (creating the case tables, or attached
//! to the hub's own).
use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use aws_sdk_dynamodb::types::StreamViewType;
use hubhooks::tables::CaseTable;
use hubhooks_cli::deployment::Deployment;
use hubhooks_cli::local::provision::create_case_table;
use hubhooks_testkit::moto::{Moto, workspace_root};
use std::path::PathBuf;
use std::sync::OnceLock;

/// Where `sam package` would have put the functions' code.
const CODE_BUCKET: &str = "hubhooks-rehearsal-artifacts";
const CODE_KEY: &str = "code.zip";

/// The translated template (translated once per test process).
pub fn translated_template() -> Result<PathBuf> {
    static DONE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let root = workspace_root();
        let out =
            std::env::temp_dir().join(format!("hubhooks-translated-{}.json", std::process::id()));
        let run = std::process::Command::new(root.join(".venv/bin/python"))
            .arg(root.join("scripts/sam_translate.py"))
            .arg(root.join("template.yaml"))
            .arg(format!("s3://{CODE_BUCKET}/{CODE_KEY}"))
            .output()
            .map_err(|e| {
                format!("running scripts/sam_translate.py: {e} (run scripts/bootstrap.sh)")
            })?;
        if !run.status.success() {
            return Err(format!(
                "scripts/sam_translate.py failed:\n{}",
                String::from_utf8_lossy(&run.stderr)
            ));
        }
        std::fs::write(&out, &run.stdout).map_err(|e| e.to_string())?;
        Ok(out)
    })
    .clone()
    .map_err(anyhow::Error::msg)
}

/// A moto server to deploy on.
pub struct Rehearsal {
    pub moto: Moto,
    pub sdk: SdkConfig,
    pub cfn: aws_sdk_cloudformation::Client,
    pub ddb: aws_sdk_dynamodb::Client,
}

impl Rehearsal {
    pub async fn start() -> Result<Rehearsal> {
        let moto = Moto::start()?;
        let sdk = hubhooks_cli::aws::sdk_config(Some(&moto.endpoint)).await;
        let s3 = hubhooks::adapters::s3::client(&sdk);
        s3.create_bucket().bucket(CODE_BUCKET).send().await?;
        // Any bytes: moto keeps the code, nothing runs it.
        s3.put_object()
            .bucket(CODE_BUCKET)
            .key(CODE_KEY)
            .body(
                b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
                    .to_vec()
                    .into(),
            )
            .send()
            .await?;
        Ok(Rehearsal {
            cfn: aws_sdk_cloudformation::Client::new(&sdk),
            ddb: aws_sdk_dynamodb::Client::new(&sdk),
            moto,
            sdk,
        })
    }

    /// The hub's own case tables, `<prefix>-cases`, …, streaming both
    /// images: the stack parameters that attach to them.
    pub async fn hub_tables(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        self.hub_tables_streaming(prefix, |_| StreamViewType::NewAndOldImages)
            .await
    }

    /// The same, each table streaming `view(table)`.
    pub async fn hub_tables_streaming(
        &self,
        prefix: &str,
        view: impl Fn(CaseTable) -> StreamViewType,
    ) -> Result<Vec<(String, String)>> {
        let mut params = Vec::new();
        for table in CaseTable::ALL {
            let name = format!("{prefix}-{}", table.suffix());
            create_case_table(&self.ddb, table, &name, Some(view(table))).await?;
            let arn = self
                .ddb
                .describe_table()
                .table_name(&name)
                .send()
                .await?
                .table
                .and_then(|t| t.latest_stream_arn)
                .context("no stream")?;
            params.push((hubhooks_cli::deployment::output::stream(table), arn));
        }
        Ok(params)
    }

    fn parameters(params: &[(String, String)]) -> Vec<Parameter> {
        params
            .iter()
            .map(|(k, v)| {
                Parameter::builder()
                    .parameter_key(k)
                    .parameter_value(v)
                    .build()
            })
            .collect()
    }

    /// Creates the stack and reads its names back, as `--stack` does.
    pub async fn deploy(&self, name: &str, params: &[(String, String)]) -> Result<Deployment> {
        let body = std::fs::read_to_string(translated_template()?)?;
        self.cfn
            .create_stack()
            .stack_name(name)
            .template_body(body)
            .set_parameters(Some(Self::parameters(params)))
            .capabilities(Capability::CapabilityIam)
            .send()
            .await
            .map_err(hubhooks_cli::aws::sdk_err)
            .with_context(|| format!("creating stack {name}"))?;
        self.settled(name, StackStatus::CreateComplete).await
    }

    /// Deletes the stack; what it retains stays behind.
    pub async fn delete(&self, name: &str) -> Result<()> {
        self.cfn
            .delete_stack()
            .stack_name(name)
            .send()
            .await
            .map_err(hubhooks_cli::aws::sdk_err)
            .with_context(|| format!("deleting stack {name}"))?;
        for _ in 0..100 {
            let stacks = self.cfn.describe_stacks().stack_name(name).send().await;
            let status = match &stacks {
                Ok(s) => s.stacks().first().and_then(|s| s.stack_status().cloned()),
                Err(_) => None,
            };
            match status {
                None | Some(StackStatus::DeleteComplete) => return Ok(()),
                Some(s) if s.as_str().ends_with("_IN_PROGRESS") => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await
                }
                Some(s) => bail!("stack {name}: {s:?}"),
            }
        }
        bail!("stack {name} still deleting after 10 s")
    }

    async fn settled(&self, name: &str, want: StackStatus) -> Result<Deployment> {
        for _ in 0..100 {
            let stacks = self.cfn.describe_stacks().stack_name(name).send().await?;
            let stack = stacks.stacks().first().context("no stack")?;
            match stack.stack_status() {
                Some(s) if *s == want => {
                    return Deployment::from_stack(&self.sdk, name).await;
                }
                Some(s) if s.as_str().ends_with("_IN_PROGRESS") => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await
                }
                other => bail!(
                    "stack {name}: {other:?} {}",
                    stack.stack_status_reason().unwrap_or_default()
                ),
            }
        }
        bail!("stack {name} did not settle")
    }

    /// The stack's resources: (logical id, type).
    pub async fn resources(&self, name: &str) -> Result<Vec<(String, String)>> {
        let r = self
            .cfn
            .list_stack_resources()
            .stack_name(name)
            .send()
            .await?;
        Ok(r.stack_resource_summaries()
            .iter()
            .map(|s| {
                (
                    s.logical_resource_id().unwrap_or_default().to_owned(),
                    s.resource_type().unwrap_or_default().to_owned(),
                )
            })
            .collect())
    }
}
