//! Who may hear of a change: the audience rules and "no echo" of
//! docs/data-contract.md.
//!
//! | change | recipients |
//! |---|---|
//! | status added | both parties, except the side in the status's `changedBy` |
//! | case updated | both parties, except the side in the case's `changedBy` |
//! | cost proposal added | the side that did not make it (`changedBy`, else the provider) |
//! | message added | the side that did not send it (`senderType`) |
//! | message confirmed | the side that sent it (`senderType`) |
//! | files uploaded | both parties, except the side in the upload's `changedBy` |
//! | invoice saved | the partner only (invoices come from the provider) |
use crate::party::{Actor, Party, PartyKind};
use crate::record::CaseRecord;

/// The change's maker and what the contract says about its recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Both parties, except the maker's side when known.
    AllBut(Option<Actor>),
    /// Only this side.
    Only(PartyKind),
}

impl Audience {
    /// The parties of `case` this audience covers, partner first.
    pub fn parties(self, case: &CaseRecord) -> Vec<Party> {
        case.parties()
            .into_iter()
            .filter(|p| match self {
                Audience::AllBut(Some(actor)) => p.kind != actor.kind,
                Audience::AllBut(None) => true,
                Audience::Only(kind) => p.kind == kind,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn no_party_hears_of_its_own_change() {
        let case = CaseRecord::from_json(
            json!({"guid": "g", "id": 1, "partnerId": 10, "serviceProviderId": 20}),
        )
        .unwrap();
        let by = |kind| Some(Actor { kind, via: None });
        assert_eq!(
            Audience::AllBut(None).parties(&case),
            vec![Party::partner(10), Party::provider(20)]
        );
        assert_eq!(
            Audience::AllBut(by(PartyKind::Partner)).parties(&case),
            vec![Party::provider(20)]
        );
        assert_eq!(
            Audience::AllBut(by(PartyKind::Provider)).parties(&case),
            vec![Party::partner(10)]
        );
        assert_eq!(
            Audience::Only(PartyKind::Partner).parties(&case),
            vec![Party::partner(10)]
        );
    }
}
