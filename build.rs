//! Generates `include/amlis.h` from `src/service/ffi` with cbindgen.
//!
//! The header is part of the product and is committed; `.ci/run` fails when the committed
//! header differs from the generated one. The file is rewritten only when its content
//! changes, so its modification time does not churn.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/service/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");

    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("cannot read cbindgen.toml: {e}"));
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/service/ffi/mod.rs"))
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen failed to generate include/amlis.h: {e}"));
    let mut text = Vec::new();
    bindings.write(&mut text);

    let header = root.join("include/amlis.h");
    if std::fs::read(&header).ok().as_deref() == Some(text.as_slice()) {
        return;
    }
    std::fs::create_dir_all(root.join("include"))
        .unwrap_or_else(|e| panic!("cannot create include/: {e}"));
    std::fs::write(&header, &text)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", header.display()));
}
