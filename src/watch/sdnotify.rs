//! systemd's readiness protocol (`Type=notify`): datagrams such as `READY=1`,
//! `RELOADING=1` and `STATUS=…` sent to `$NOTIFY_SOCKET`, a path or an abstract socket
//! (`@name`). Without the variable (not under systemd) nothing is sent.

use std::os::unix::net::UnixDatagram;

/// Sends one notification to `$NOTIFY_SOCKET`; errors are ignored, as systemd does.
pub fn notify(message: &str) {
    if let Some(socket) = std::env::var_os("NOTIFY_SOCKET") {
        let _ = notify_to(&socket.to_string_lossy(), message);
    }
}

/// Sends one notification to `socket`.
pub fn notify_to(socket: &str, message: &str) -> std::io::Result<usize> {
    let sender = UnixDatagram::unbound()?;
    match socket.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            sender.send_to_addr(message.as_bytes(), &addr)
        }
        None => sender.send_to(message.as_bytes(), socket),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_to_path_and_abstract_sockets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let receiver = UnixDatagram::bind(&path).unwrap();
        notify_to(path.to_str().unwrap(), "READY=1").unwrap();
        let mut buf = [0u8; 64];
        let n = receiver.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");

        use std::os::linux::net::SocketAddrExt;
        let name = format!("damo-policy-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let abstract_receiver = UnixDatagram::bind_addr(&addr).unwrap();
        notify_to(&format!("@{name}"), "STATUS=applied").unwrap();
        let n = abstract_receiver.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STATUS=applied");
    }
}
