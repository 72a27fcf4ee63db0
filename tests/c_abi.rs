//! The C ABI tested from C and C++: compiles `tests/c/*.c`, `tests/c/header_cpp.cpp` and
//! `examples/c/*.c` against `include/amlis.h`, links them with `libamlis` both shared and
//! static, runs them, and runs them again under valgrind. It also installs the library with
//! `scripts/install.sh` into a scratch prefix and builds the C quickstart against that prefix
//! as a user would: through pkg-config (`amlis` shared, `amlis-static` static, checked with
//! `ldd`) and through the CMake example (`examples/cmake`, shared and `AMLIS_STATIC=ON`).
//!
//! The library files come from the directory of this test binary, `target/<profile>/deps/`:
//! `cargo test` builds every crate type of the library (rlib, cdylib, staticlib) there, in one
//! rustc run, before it builds the integration tests that link the rlib, so they are exactly
//! as fresh as the test. (`cargo test` does not copy them up to `target/<profile>/`; only
//! `cargo build` does, so the copies there may be stale.) The install script takes them from
//! there with `--from`, so no second (release) build happens inside `cargo test`.
//!
//! # Missing tools
//!
//! valgrind, pkg-config, cmake and patchelf (which gives the installed library its soname)
//! may be missing on a developer's machine. A test that needs
//! one then passes without doing its work, and says so where it is seen: a line `SKIPPED
//! <test>: <tool> is not installed` is written straight to the process's stderr, which the
//! test harness does not capture (an `eprintln!` would be captured and hidden, since the test
//! passes), so it shows in the plain `cargo test` output; the same lines are collected in
//! `target/tmp/c_abi/skipped.txt` (emptied at the start of each run). A stable Rust test cannot
//! mark itself ignored at run time, so this is the visible form. With `AMLIS_REQUIRE_TOOLS=1`
//! a missing tool is a failure instead: `.ci/run` installs the tools and sets it, so CI never
//! skips. (`AMLIS_REQUIRE_VALGRIND=1`, the older switch, still requires valgrind.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

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
        skip_log(); // empties the last run's list, also when nothing is skipped this time
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
/// A counting gate: at most `limit` holders at once.
struct Gate {
    held: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
    limit: usize,
}

/// One hold of a [`Gate`], released on drop.
struct Permit<'a>(&'a Gate);

impl Gate {
    fn acquire(&self) -> Permit<'_> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        while *held >= self.limit {
            held = self.freed.wait(held).unwrap_or_else(|e| e.into_inner());
        }
        *held += 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut held = self.0.held.lock().unwrap_or_else(|e| e.into_inner());
        *held -= 1;
        self.0.freed.notify_one();
    }
}

/// The compiler runs (compile + link) allowed at once.
static LINKS: Gate = Gate {
    held: std::sync::Mutex::new(0),
    freed: std::sync::Condvar::new(),
    limit: 2,
};

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
    let out = {
        // Linking the (debug, ~0.5 GB) static archive takes a lot of memory: at most two
        // links at once, so that the parallel tests cannot run the machine out of memory.
        let _permit = LINKS.acquire();
        cmd.output()
            .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"))
    };
    assert!(
        out.status.success(),
        "compiling {source} failed: {cmd:?}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Runs a compiled program (optionally under valgrind) from the crate root, finding
/// `libamlis.so` in the build's `deps/` through `LD_LIBRARY_PATH`; panics with its output
/// unless it exits with 0.
fn run(exe: &Path, args: &[&str], valgrind: bool) -> String {
    run_with(exe, args, valgrind, Some(&setup().lib_dir))
}

/// [`run`] with `LD_LIBRARY_PATH` set to `lib_path`, or unset when `None` (cargo sets it for
/// the test process, and children would inherit it): the program must then find its
/// libraries by itself (an rpath, or a static link).
fn run_with(exe: &Path, args: &[&str], valgrind: bool, lib_path: Option<&Path>) -> String {
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
    cmd.args(args).current_dir(&s.root);
    match lib_path {
        Some(dir) => cmd.env("LD_LIBRARY_PATH", dir),
        None => cmd.env_remove("LD_LIBRARY_PATH"),
    };
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

/// The skip list of this run, `target/tmp/c_abi/skipped.txt`, emptied on first use.
fn skip_log() -> &'static Mutex<std::fs::File> {
    static LOG: OnceLock<Mutex<std::fs::File>> = OnceLock::new();
    LOG.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c_abi");
        std::fs::create_dir_all(&dir).unwrap();
        Mutex::new(std::fs::File::create(dir.join("skipped.txt")).unwrap())
    })
}

/// Whether `tool` runs (`tool --version`). When it does not: a failure if
/// `AMLIS_REQUIRE_TOOLS` (or, for valgrind, `AMLIS_REQUIRE_VALGRIND`) is set to anything but
/// `0`; otherwise a `SKIPPED` line on the uncaptured stderr and in the skip list (see the
/// module documentation), and `false`.
fn have_tool(tool: &str, test: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    let required = |var: &str| std::env::var(var).is_ok_and(|v| !v.is_empty() && v != "0");
    for var in ["AMLIS_REQUIRE_TOOLS", "AMLIS_REQUIRE_VALGRIND"] {
        assert!(
            !(required(var) && (var == "AMLIS_REQUIRE_TOOLS" || tool == "valgrind")),
            "{test}: {tool} is not installed, and {var} requires it (.ci/run installs it)"
        );
    }
    let line = format!(
        "SKIPPED {test}: {tool} is not installed (install it, or set AMLIS_REQUIRE_TOOLS=1 to \
         make this a failure)"
    );
    // Straight to the file descriptor: the harness captures eprintln!, not this.
    let _ = writeln!(std::io::stderr(), "{line}");
    let _ = writeln!(skip_log().lock().unwrap(), "{line}");
    false
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
        source: "tests/c/semi_supervised.c",
        args: &[],
        valgrind_args: None,
    },
    Program {
        source: "tests/c/auto.c",
        args: &["data/iris.csv"],
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
        source: "tests/c/policy.c",
        args: &[SCRATCH],
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
        source: "tests/c/bandit_calls.c",
        args: &[SCRATCH, "400"],
        valgrind_args: Some(&[SCRATCH, "40"]),
    },
    Program {
        source: "examples/c/bandit.c",
        args: &["data/wine.csv", "cultivar"],
        valgrind_args: None,
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
    if !have_tool("valgrind", "c_programs_pass_under_valgrind") {
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
    assert!(out.contains("classes: Adelie Chinstrap Gentoo"), "{out}");
    // A real model: all but one of the 344 penguins (152 Adelie, 68 Chinstrap, 124 Gentoo);
    // the miss is the Gentoo whose measurements are all missing.
    assert!(
        out.contains("training accuracy: 0.9971 (343 of 344 rows)"),
        "{out}"
    );
    assert!(
        out.contains("predicted: Adelie 153 Chinstrap 68 Gentoo 123"),
        "{out}"
    );
    assert!(out.contains("row 0 class: Gentoo"), "{out}");
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

/// The prefix `scripts/install.sh --from <deps>` installs into, once per run
/// (`target/tmp/c_abi/prefix`, emptied first): this build's libraries, header and `.pc`
/// files, laid out as for a user.
fn installed() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let s = setup();
        let prefix = s.out_dir.join("prefix");
        if prefix.exists() {
            std::fs::remove_dir_all(&prefix).unwrap();
        }
        let mut cmd = Command::new("bash");
        cmd.arg(s.root.join("scripts/install.sh"))
            .arg("--prefix")
            .arg(&prefix)
            .arg("--from")
            .arg(&s.lib_dir)
            .env_remove("DESTDIR");
        let out = cmd.output().expect("bash runs");
        assert!(
            out.status.success(),
            "{cmd:?}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for file in [
            "include/amlis.h",
            "lib/libamlis.so",
            "lib/libamlis.a",
            "lib/libamlis_static.a",
            "lib/pkgconfig/amlis.pc",
            "lib/pkgconfig/amlis-static.pc",
        ] {
            assert!(
                prefix.join(file).exists(),
                "install.sh did not install {file}"
            );
        }
        prefix
    })
}

/// The words `pkg-config ARGS` prints for the installed prefix.
fn pkg_config(args: &[&str]) -> Vec<String> {
    let pc_dir = installed().join("lib/pkgconfig");
    let out = Command::new("pkg-config")
        .args(args)
        .env("PKG_CONFIG_PATH", &pc_dir)
        .env_remove("PKG_CONFIG_LIBDIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pkg-config {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// `ldd exe`, without `LD_LIBRARY_PATH`: the libraries the program loads by itself.
fn ldd(exe: &Path) -> String {
    let out = Command::new("ldd")
        .arg(exe)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("ldd runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `readelf -d file`: the dynamic section (soname, needed libraries).
fn readelf_dynamic(file: &Path) -> String {
    let out = Command::new("readelf")
        .arg("-d")
        .arg(file)
        .output()
        .expect("readelf runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs the quickstart built against the installed prefix without `LD_LIBRARY_PATH`, checks
/// it trained, and checks with `ldd` whether it loads the installed `libamlis.so`.
fn check_installed_quickstart(exe: &Path, shared: bool) {
    let model = exe.with_extension("amlis");
    let out = run_with(
        exe,
        &["data/penguins.csv", "species", model.to_str().unwrap()],
        false,
        None,
    );
    assert!(out.contains("training accuracy: 0.9"), "{out}");
    let libs = ldd(exe);
    let installed_so = installed().join("lib/libamlis.so");
    if shared {
        assert!(
            libs.contains(&installed_so.display().to_string()),
            "{} does not load {}:\n{libs}",
            exe.display(),
            installed_so.display()
        );
    } else {
        assert!(
            !libs.contains("libamlis"),
            "{} is not linked statically:\n{libs}",
            exe.display()
        );
    }
}

/// Builds the C quickstart against the installed prefix through pkg-config, as the README
/// shows: `amlis` linked shared (found at run time through an rpath to the prefix) and
/// `amlis-static` linked statically (no libamlis.so at run time, checked with `ldd`).
#[test]
fn installed_quickstart_builds_with_pkg_config() {
    if !have_tool("pkg-config", "installed_quickstart_builds_with_pkg_config") {
        return;
    }
    let s = setup();
    let prefix = installed();
    let lib = prefix.join("lib");
    assert_eq!(
        pkg_config(&["--modversion", "amlis"]),
        [env!("CARGO_PKG_VERSION")]
    );
    let include = format!("-I{}", prefix.join("include").display());
    let shared = pkg_config(&["--cflags", "--libs", "amlis"]);
    assert!(shared.contains(&include), "{shared:?}");
    assert!(shared.contains(&"-lamlis".to_string()), "{shared:?}");
    let statics = pkg_config(&["--cflags", "--libs", "amlis-static"]);
    assert!(statics.contains(&include), "{statics:?}");
    // A name only the archive answers to (`-lamlis` would find libamlis.so beside it).
    assert!(
        statics.contains(&"-lamlis_static".to_string()),
        "{statics:?}"
    );
    assert!(!statics.contains(&"-lamlis".to_string()), "{statics:?}");
    for native in &s.native_static_libs {
        assert!(statics.contains(native), "{statics:?} lacks {native}");
    }
    // The soname (set by patchelf) is what programs linked shared record.
    let soname = have_tool("patchelf", "installed_quickstart_builds_with_pkg_config");
    if soname {
        let dynamic = readelf_dynamic(&lib.join("libamlis.so.1"));
        assert!(
            dynamic.contains("Library soname: [libamlis.so.1]"),
            "{dynamic}"
        );
        let link = std::fs::read_link(lib.join("libamlis.so")).unwrap();
        assert_eq!(link, Path::new("libamlis.so.1"));
    }
    for (tag, flags) in [("pc_shared", shared), ("pc_static", statics)] {
        let exe = s.out_dir.join(format!("quickstart_{tag}"));
        let mut cmd = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()));
        cmd.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"])
            .arg(s.root.join("examples/c/quickstart.c"))
            .args(&flags)
            .arg("-o")
            .arg(&exe);
        if tag == "pc_shared" {
            cmd.arg(format!("-Wl,-rpath,{}", lib.display()));
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{cmd:?}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        check_installed_quickstart(&exe, tag == "pc_shared");
        if soname && tag == "pc_shared" {
            let dynamic = readelf_dynamic(&exe);
            assert!(
                dynamic.contains("Shared library: [libamlis.so.1]"),
                "{dynamic}"
            );
        }
    }
}

/// Configures and builds `examples/cmake` against the installed prefix, linked shared and
/// with `-DAMLIS_STATIC=ON`, and runs both without `LD_LIBRARY_PATH`.
#[test]
fn installed_quickstart_builds_with_cmake() {
    let test = "installed_quickstart_builds_with_cmake";
    if !have_tool("cmake", test) || !have_tool("make", test) || !have_tool("pkg-config", test) {
        return;
    }
    let s = setup();
    let pc_dir = installed().join("lib/pkgconfig");
    let status = |mut c: Command| {
        let out = c
            .env("PKG_CONFIG_PATH", &pc_dir)
            .env_remove("PKG_CONFIG_LIBDIR")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{c:?}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for (tag, option) in [("shared", "OFF"), ("static", "ON")] {
        let build = s.out_dir.join(format!("cmake-{tag}"));
        if build.exists() {
            std::fs::remove_dir_all(&build).unwrap();
        }
        let mut configure = Command::new("cmake");
        configure
            .arg("-S")
            .arg(s.root.join("examples/cmake"))
            .arg("-B")
            .arg(&build)
            .arg(format!("-DAMLIS_STATIC={option}"));
        status(configure);
        let mut make = Command::new("cmake");
        make.arg("--build").arg(&build);
        status(make);
        check_installed_quickstart(&build.join("quickstart"), tag == "shared");
    }
}
