//! The version is set once, as `ModuleVersion` in the module manifest (the C# assembly reads it
//! from there when it builds); the crates' workspace version must say the same.

#[test]
fn the_crates_carry_the_module_manifests_version() {
    let manifest = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../Microsoft.Graph.Beta.Users.Actions.psd1"
    ))
    .expect("the module manifest");
    let line = manifest
        .lines()
        .find(|line| line.trim_start().starts_with("ModuleVersion"))
        .expect("a ModuleVersion line");
    let version = line.split('\'').nth(1).expect("a quoted version");
    assert_eq!(
        version,
        env!("CARGO_PKG_VERSION"),
        "set [workspace.package] version in Cargo.toml to the manifest's ModuleVersion"
    );
}
