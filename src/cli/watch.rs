//! `damo-policy apply --watch`: the long-running service.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::mpsc;

use super::apply::{ApplyArgs, settings};
use super::usage_error;
use crate::watch::{self, DirWatcher, Env, WatchSettings};

/// Logs for people on a terminal, and for journald (which adds its own timestamps).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DAMO_POLICY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        let _ = builder.without_time().try_init();
    } else {
        let _ = builder.try_init();
    }
}

pub fn run(args: &ApplyArgs) -> ExitCode {
    let [dir] = args.plan.paths.as_slice() else {
        return usage_error("--watch takes exactly one policy directory");
    };
    if !dir.is_dir() {
        return usage_error(format!("{}: --watch takes a directory", dir.display()));
    }
    init_logging();
    let live = match args.plan.live.open() {
        Ok(live) => live,
        Err(message) => return usage_error(&message),
    };
    let (tx, rx) = mpsc::channel();
    let mut watcher = match DirWatcher::new(dir, tx.clone()) {
        Ok(watcher) => watcher,
        Err(e) => return usage_error(format!("cannot watch {}: {e}", dir.display())),
    };
    if let Err(e) = watch::sources::forward_signals(tx) {
        return usage_error(format!("cannot handle signals: {e}"));
    }
    let watch_settings = WatchSettings {
        debounce: args.debounce,
        max_batch: args.debounce * 10,
        resync: args.resync,
        stop_on_exit: args.stop_on_exit,
        module_root: args.plan.live.module_root.clone(),
    };
    tracing::info!(dir = %dir.display(), kernel = %live.info.version, release = %live.info.release, "watching");
    let mut env = Env {
        sysfs: live.kernel.sysfs(),
        info: live.info.clone(),
        store: live.store.clone(),
        state: live.state.clone(),
    };
    watch::serve(
        &settings(&args.plan),
        &watch_settings,
        &mut env,
        &rx,
        || watcher.rewatch(),
        |_, _| {},
    );
    match live.kernel.save() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => usage_error(&message),
    }
}
