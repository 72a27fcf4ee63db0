//! The C ABI tested from C and C++: compiles `tests/c/*.c`, `tests/c/header_cpp.cpp` and
//! `examples/c/*.c` against `include/amlis.h`, links them with `libamlis` both shared and
//! static, runs them, and runs them again under valgrind when it is installed (`.ci/run`
//! installs it and sets `AMLIS_REQUIRE_VALGRIND=1`, which makes its absence a failure).
//!
//! The library files come from the directory of this test binary, `target/<profile>/deps/`:
//! `cargo test` builds every crate type of the library (rlib, cdylib, staticlib) there, in one
//! rustc run, before it builds the integration tests that link the rlib, so they are exactly
//! as fresh as the test. (`cargo test` does not copy them up to `target/<profile>/`; only
//! `cargo build` does, so the copies there may be stale.)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Where things are.
struct Setup {
    root: PathBuf,
    lib_dir: PathBuf,
    out_dir: PathBuf,
    native_static_libs: Vec<String>,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        // target/<profile>/deps/c_abi-<hash> -> target/<profile>/deps
        let exe = std::env::current_exe().unwrap();
        let lib_dir = exe.parent().unwrap().to_path_buf();
        for name in ["libamlis.so", "libamlis.a"] {
            let lib = lib_dir.join(name);
            assert!(lib.exists(), "{} was not built", lib.display());
            let lib_time = lib.metadata().unwrap().modified().unwrap();
            let rlib_time = lib_dir
                .join("libamlis.rlib")
                .metadata()
                .unwrap()
                .modified()
                .unwrap();
            // All crate types come from the same rustc invocation, written seconds apart.
            let gap = lib_time
                .duration_since(rlib_time)
                .unwrap_or_else(|e| e.duration());
            assert!(
                gap.as_secs() < 60,
                "{} and libamlis.rlib are from different builds",
                lib.display()
            );
        }
        let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c_abi");
        std::fs::create_dir_all(&out_dir).unwrap();
        Setup {
            native_static_libs: native_static_libs(&out_dir),
            root,
            lib_dir,
            out_dir,
        }
    })
}

/// The system libraries a Rust static library needs on this platform, as rustc reports them
/// for a static library (`--print native-static-libs`). amlis links no native library of its
/// own (all its dependencies are pure Rust), so the standard library's list is amlis's list.
fn native_static_libs(out_dir: &Path) -> Vec<String> {
    let src = out_dir.join("empty_staticlib.rs");
    std::fs::write(&src, "").unwrap();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .args([
            "--crate-type",
            "staticlib",
            "--print",
            "native-static-libs",
            "-o",
        ])
        .arg(out_dir.join("libempty_staticlib.a"))
        .arg(&src)
        .output()
        .expect("rustc runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.split("native-static-libs:").nth(1))
        .unwrap_or_else(|| panic!("no native-static-libs line in rustc output:\n{text}"));
    line.split_whitespace().map(str::to_string).collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Link {
    Shared,
    Static,
}

/// Compiles one C or C++ source into an executable; panics with the compiler output on error.
fn compile(source: &str, link: Link, tag: &str) -> PathBuf {
    let s = setup();
    let src = s.root.join(source);
    let is_cpp = source.ends_with(".cpp");
    let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
    let exe = s.out_dir.join(format!("{stem}_{tag}"));
    let compiler = if is_cpp {
        std::env::var("CXX").unwrap_or_else(|_| "c++".into())
    } else {
        std::env::var("CC").unwrap_or_else(|_| "cc".into())
    };
    let mut cmd = Command::new(&compiler);
    if is_cpp {
        cmd.args(["-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic"]);
    } else {
        cmd.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"]);
    }
    cmd.arg("-g")
        .arg("-I")
        .arg(s.root.join("include"))
        .arg("-I")
        .arg(s.root.join("tests/c"))
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .arg("-pthread");
    match link {
        Link::Shared => {
            cmd.arg("-L").arg(&s.lib_dir).arg("-lamlis");
        }
        Link::Static => {
            cmd.arg(s.lib_dir.join("libamlis.a"));
            cmd.args(&s.native_static_libs);
        }
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "compiling {source} failed: {cmd:?}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Runs a compiled program (optionally under valgrind) from the crate root; panics with its
/// output unless it exits with 0.
fn run(exe: &Path, args: &[&str], valgrind: bool) -> String {
    let s = setup();
    let mut cmd = if valgrind {
        let mut c = Command::new("valgrind");
        c.args([
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--error-exitcode=1",
            "--quiet",
        ])
        .arg(exe);
        c
    } else {
        Command::new(exe)
    };
    cmd.args(args)
        .current_dir(&s.root)
        .env("LD_LIBRARY_PATH", &s.lib_dir);
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{} {args:?}{} failed ({}):\n{text}",
        exe.display(),
        if valgrind { " under valgrind" } else { "" },
        out.status
    );
    text
}

/// A C or C++ program to compile and run from the crate root.
struct Program {
    source: &'static str,
    args: &'static [&'static str],
    /// Arguments under valgrind, when they differ (less work: valgrind is ~50x slower).
    valgrind_args: Option<&'static [&'static str]>,
}

const PROGRAMS: &[Program] = &[
    Program {
        source: "tests/c/version.c",
        args: &[],
        valgrind_args: None,
    },
    Program {
        source: "tests/c/null_args.c",
        args: &["data/iris.csv"],
        valgrind_args: None,
    },
    Program {
        source: "tests/c/dense.c",
        args: &[],
        valgrind_args: None,
    },
    Program {
        source: "tests/c/csv.c",
        args: &["data"],
        valgrind_args: None,
    },
    Program {
        source: "tests/c/threads.c",
        args: &["300"],
        valgrind_args: Some(&["40"]),
    },
    Program {
        source: "tests/c/header_cpp.cpp",
        args: &[],
        valgrind_args: None,
    },
    Program {
        source: "tests/c/model.c",
        args: &["data/penguins.csv", SCRATCH],
        valgrind_args: None,
    },
    Program {
        source: "tests/c/evaluate.c",
        args: &["data/breast_cancer.csv"],
        valgrind_args: None,
    },
    Program {
        source: "tests/c/learner.c",
        args: &[],
        valgrind_args: None,
    },
    Program {
        source: "tests/c/model_threads.c",
        args: &["10000"],
        valgrind_args: Some(&["300"]),
    },
    Program {
        source: "examples/c/quickstart.c",
        args: &["data/penguins.csv", "species", QUICKSTART_MODEL],
        valgrind_args: None,
    },
    Program {
        source: "examples/cpp/demo.cpp",
        args: &["data/penguins.csv", DEMO_MODEL],
        valgrind_args: None,
    },
];

/// A scratch folder for model files written by the C programs.
const SCRATCH: &str = env!("CARGO_TARGET_TMPDIR");
/// Where the C quickstart saves its model.
const QUICKSTART_MODEL: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/quickstart.amlis");
/// Where the C++ demo saves its model (JSON, from the extension).
const DEMO_MODEL: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/demo.json");

/// Compiles and runs every program, in parallel, and reports all failures together.
fn run_all(link: Link, tag: &str, valgrind: bool) {
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = PROGRAMS
            .iter()
            .map(|p| {
                scope.spawn(move || {
                    let exe = compile(p.source, link, tag);
                    let args = match (valgrind, p.valgrind_args) {
                        (true, Some(a)) => a,
                        _ => p.args,
                    };
                    run(&exe, args, valgrind)
                })
            })
            .collect();
        PROGRAMS
            .iter()
            .zip(handles)
            .filter_map(|(p, h)| {
                h.join().err().map(|e| {
                    let msg = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    format!("{}: {msg}", p.source)
                })
            })
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn c_programs_pass_linked_shared() {
    run_all(Link::Shared, "shared", false);
}

#[test]
fn c_programs_pass_linked_static() {
    run_all(Link::Static, "static", false);
}

#[test]
fn c_programs_pass_under_valgrind() {
    let found = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("AMLIS_REQUIRE_VALGRIND").is_none(),
            "AMLIS_REQUIRE_VALGRIND is set but valgrind is not installed"
        );
        eprintln!("valgrind is not installed: skipping the valgrind run (.ci/run installs it)");
        return;
    }
    run_all(Link::Shared, "valgrind", true);
}

#[test]
fn quickstart_trains_saves_loads_and_predicts() {
    let exe = compile("examples/c/quickstart.c", Link::Shared, "output");
    let model = concat!(env!("CARGO_TARGET_TMPDIR"), "/quickstart-output.amlis");
    let out = run(&exe, &["data/penguins.csv", "species", model], false);
    let version = format!("amlis {} (ABI 1)", env!("CARGO_PKG_VERSION"));
    assert!(out.contains(&version), "{out}");
    assert!(
        out.contains("data/penguins.csv: 344 rows, 7 feature columns, target `species`"),
        "{out}"
    );
    assert!(out.contains("trained: 7 input columns, 3 classes"), "{out}");
    // The most frequent class (Adelie, 152 of 344) on every row.
    assert!(
        out.contains("training accuracy: 0.4419 (152 of 344)"),
        "{out}"
    );
    assert!(out.contains("row 1 class: Adelie"), "{out}");
    assert!(
        out.contains("a 6-column row: status 3: amlis_predict_row"),
        "{out}"
    );
}

#[test]
fn static_link_flags_name_the_system_libraries() {
    let libs = &setup().native_static_libs;
    for needed in ["-lpthread", "-lc"] {
        assert!(libs.iter().any(|l| l == needed), "{libs:?} lacks {needed}");
    }
}

/// `amlis.pc.in` filled for the freshly built library (prefix = the crate root, libdir = the
/// build's `deps/`), as an installer fills it.
fn write_pc_file(s: &Setup) -> PathBuf {
    let template = std::fs::read_to_string(s.root.join("amlis.pc.in")).unwrap();
    let text = template
        .replace("@PREFIX@", &s.root.display().to_string())
        .replace("@LIBDIR@", &s.lib_dir.display().to_string())
        .replace(
            "@INCLUDEDIR@",
            &s.root.join("include").display().to_string(),
        )
        .replace("@VERSION@", env!("CARGO_PKG_VERSION"))
        .replace("@NATIVE_STATIC_LIBS@", &s.native_static_libs.join(" "));
    let dir = s.out_dir.join("pkgconfig");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("amlis.pc"), text).unwrap();
    dir
}

/// Builds a C program with `pkg-config --cflags --libs amlis` (shared) and
/// `pkg-config --static` (static, with the native libraries), and runs both; skipped when
/// pkg-config is not installed.
#[test]
fn pkg_config_file_builds_a_program() {
    if Command::new("pkg-config")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("pkg-config is not installed: skipping");
        return;
    }
    let s = setup();
    let pc_dir = write_pc_file(s);
    let flags = |extra: &[&str]| -> Vec<String> {
        let out = Command::new("pkg-config")
            .args(extra)
            .args(["--cflags", "--libs", "amlis"])
            .env("PKG_CONFIG_PATH", &pc_dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let shared = flags(&[]);
    assert!(shared.contains(&"-lamlis".to_string()), "{shared:?}");
    let statics = flags(&["--static"]);
    assert!(statics.contains(&"-lpthread".to_string()), "{statics:?}");
    for (tag, args) in [("pc_shared", shared), ("pc_static", statics)] {
        let exe = s.out_dir.join(tag);
        let mut cmd = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()));
        cmd.args(["-std=c11", "-Wall", "-Werror"])
            .arg(s.root.join("tests/c/version.c"))
            .arg("-o")
            .arg(&exe);
        if tag == "pc_static" {
            // Prefer the archive: pass it by path, then the private libraries.
            cmd.arg(s.lib_dir.join("libamlis.a"));
        }
        cmd.args(&args);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{cmd:?}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        run(&exe, &[], false);
    }
}

/// Configures and builds `examples/cmake` against the filled `amlis.pc`; skipped when cmake
/// is not installed.
#[test]
fn cmake_example_builds() {
    if Command::new("cmake").arg("--version").output().is_err() {
        eprintln!("cmake is not installed: skipping the CMake example");
        return;
    }
    let s = setup();
    let pc_dir = write_pc_file(s);
    let build = s.out_dir.join("cmake-build");
    let status = |mut c: Command| {
        let out = c.env("PKG_CONFIG_PATH", &pc_dir).output().unwrap();
        assert!(
            out.status.success(),
            "{c:?}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let mut configure = Command::new("cmake");
    configure
        .arg("-S")
        .arg(s.root.join("examples/cmake"))
        .arg("-B")
        .arg(&build);
    status(configure);
    let mut make = Command::new("cmake");
    make.arg("--build").arg(&build);
    status(make);
    let model = s.out_dir.join("cmake-quickstart.amlis");
    run(
        &build.join("quickstart"),
        &["data/penguins.csv", "species", model.to_str().unwrap()],
        false,
    );
}
