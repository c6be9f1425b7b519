//! Replays the committed workflow histories against the current workflow
//! code: a change that would break running workflows fails here.
//!
//! Record new histories with `POWERTUNE_RECORD_HISTORIES=/tmp/histories
//! scripts/test.sh` and copy the ones worth keeping into `tests/histories/`.

use temporalio_client::WorkflowHistory;

#[tokio::test]
async fn committed_histories_replay() {
    let dir = powertune_tests::histories::fixtures_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no histories in {}", dir.display());

    let replayer = powertune_tests::histories::replayer().unwrap();
    for file in files {
        let json = std::fs::read(&file).unwrap();
        let history = WorkflowHistory::from_json(&json).unwrap();
        if let Err(error) = replayer.replay_workflow(history).await {
            panic!("{} no longer replays: {error}", file.display());
        }
    }
}
