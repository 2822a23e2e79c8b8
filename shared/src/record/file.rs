//! A `Files` item: one upload of one or more files.
use super::{RecordError, parse};
use crate::party::Actor;
use crate::timestamp::Timestamp;
use serde::Deserialize;
use serde_json::Value;

/// One upload (`Files` table): the files uploaded together, which make one
/// webhook, not one per file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileUpload {
    /// The case guid.
    pub guid: String,
    pub upload_id: String,
    pub files: Vec<UploadedFile>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Who uploaded them; that side is not told.
    #[serde(default)]
    pub changed_by: Option<Actor>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadedFile {
    pub url: String,
    pub name: String,
    /// A value of the hub's FileType set (`other`, …), passed on unchanged.
    #[serde(rename = "type")]
    pub kind: String,
}

impl FileUpload {
    pub fn from_json(value: Value) -> Result<Self, RecordError> {
        let upload: FileUpload = parse("file upload", value)?;
        if upload.files.is_empty() {
            return Err(RecordError::Shape {
                item: "file upload",
                reason: "attribute `files` lists no file".into(),
            });
        }
        Ok(upload)
    }
}
