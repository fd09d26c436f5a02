//! `attune tenant`: the key is the last line of stdout, names are unique, a fitted model
//! file registers and serves.

use crate::{attune, data};

fn out(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn tenant_create_prints_the_key_last_and_add_model_serves() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let db = db.to_str().unwrap();
    let o = attune(&["tenant", "create", "--name", "acme", "--database", db]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let key = out(&o).lines().last().unwrap().to_owned();
    let (public, secret) = key.split_once('.').unwrap();
    assert_eq!((public.len(), secret.len()), (16, 64), "{key}");
    let again = attune(&["tenant", "create", "--name", "acme", "--database", db]);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("exists"));
    let o = attune(&["tenant", "key", "--name", "acme", "--scopes", "read", "--database", db]);
    assert!(o.status.success() && out(&o).lines().last().unwrap().contains('.'));
    let model = dir.path().join("bkt.json");
    let d = data("STATICS");
    let o = attune(&["fit", "--dataset", d.to_str().unwrap(), "--model", "bkt", "--out", model.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = attune(&[
        "tenant",
        "add-model",
        "--name",
        "acme",
        "--model-file",
        model.to_str().unwrap(),
        "--serve",
        "--database",
        db,
    ]);
    assert!(out(&o).contains("version 1") && out(&o).contains("serving"), "{}", out(&o));
    let list = attune(&["tenant", "list", "--database", db]);
    assert!(out(&list).contains("acme"));
}
