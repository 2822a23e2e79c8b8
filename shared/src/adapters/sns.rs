//! SNS: the deployment's notice topic (template parameter `NoticeTopicArn`).
use crate::notice::Notice;
use crate::ports::{IoError, NoticeTopic};
use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;

pub struct SnsNotices {
    client: Client,
    topic_arn: String,
}

impl SnsNotices {
    pub fn new(client: Client, topic_arn: String) -> Self {
        SnsNotices { client, topic_arn }
    }
}

/// Attributes subscribers can filter on without parsing the body.
fn attribute(value: &str) -> Option<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .ok()
}

#[async_trait]
impl NoticeTopic for SnsNotices {
    async fn publish(&self, notice: &Notice) -> Result<(), IoError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(notice.to_json());
        for (name, value) in [
            ("noticeType", notice.notice_type.as_str().to_owned()),
            (
                "subscriptionId",
                notice
                    .subscription_id
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            ("party", notice.party.to_string()),
        ] {
            if let Some(v) = attribute(&value) {
                request = request.message_attributes(name, v);
            }
        }
        request
            .send()
            .await
            .map_err(|e| super::sdk_error(format!("Publish {}", self.topic_arn), e))?;
        Ok(())
    }
}
