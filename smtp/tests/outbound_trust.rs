//! Fail closed on trust: a peer whose certificate DN is not listed for the recipient's
//! domain, whose chain is not ours, or that offers no STARTTLS gets nothing; the attempt is
//! deferred (a liste blanche refresh may fix it) and audited.

mod common;

use common::*;
use mssd_store::RecipientStatus;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[tokio::test]
async fn peer_whose_dn_is_not_listed_for_the_domain_is_refused_and_audited() {
    let pki = Pki::new();
    let id_a = pki.server_identity(&format!("mail.{DOMAIN_A}"), "HOPITAL A");
    let id_b = pki.server_identity(&format!("mail.{DOMAIN_B}"), "CLINIQUE B");
    let other = pki.server_identity("mx.autre-operateur.fr", "AUTRE");
    // A lists another operator's DN for B's domain; B lists A correctly.
    let (dn_a, dn_b) = (id_a.dn.clone(), id_b.dn.clone());
    let a = Operator::new(
        &pki,
        DOMAIN_A,
        id_a,
        &[(DOMAIN_A, &dn_a), (DOMAIN_B, &other.dn)],
        &[SENDER],
    )
    .await;
    let b = Operator::new(
        &pki,
        DOMAIN_B,
        id_b,
        &[(DOMAIN_A, &dn_a), (DOMAIN_B, &dn_b)],
        &[RECIPIENT],
    )
    .await;
    let peer = Peer::start(b.ctx.clone(), 0).await;
    let runner = a.runner(peer.port, |_| {});
    let id = a
        .enqueue(
            Some(SENDER),
            &[RECIPIENT],
            &sample_message("refused"),
            DsnParams::default(),
        )
        .await;

    let report = runner.run_once().await.unwrap();
    assert_eq!(
        (
            report.delivered,
            report.deferred,
            report.failed,
            report.reports
        ),
        (0, 1, 0, 0),
        "{report:?}"
    );
    assert!(
        b.inbox(RECIPIENT).await.is_empty(),
        "nothing was sent to an unlisted peer"
    );
    assert!(b.audit_kinds("smtp.message").await.is_empty());
    let entry = a
        .ctx
        .store
        .queue()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.id == id)
        .unwrap();
    assert_eq!(entry.recipients[0].status, RecipientStatus::Pending);
    let detail = entry.recipients[0].detail.clone().unwrap();
    assert!(detail.contains("temporary failure 4.7.1"), "{detail}");
    assert!(
        detail.contains(&format!("is not listed for {DOMAIN_B}")),
        "{detail}"
    );

    let refused = a.audit_kinds("smtp.outbound.refused").await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].outcome, "refused");
    assert_eq!(refused[0].subject, DOMAIN_B);
    assert_eq!(refused[0].detail["domain"], DOMAIN_B);
    assert_eq!(refused[0].detail["dn"], dn_b.as_str());
    assert_eq!(
        refused[0].detail["peer"],
        format!("127.0.0.1:{}", peer.port)
    );
    assert_eq!(runner.stats().snapshot().3, 1);
    peer.stop();
}

#[tokio::test]
async fn peer_with_a_certificate_of_another_hierarchy_is_refused() {
    let (a, _) = two_operators().await;
    let foreign_pki = Pki::new();
    let foreign_id = foreign_pki.server_identity(&format!("mail.{DOMAIN_B}"), "CLINIQUE B");
    let dn = foreign_id.dn.clone();
    let b = Operator::new(
        &foreign_pki,
        DOMAIN_B,
        foreign_id,
        &[(DOMAIN_B, &dn)],
        &[RECIPIENT],
    )
    .await;
    let peer = Peer::start(b.ctx.clone(), 0).await;
    let runner = a.runner(peer.port, |_| {});
    a.enqueue(
        Some(SENDER),
        &[RECIPIENT],
        &sample_message("foreign"),
        DsnParams::default(),
    )
    .await;

    let report = runner.run_once().await.unwrap();
    assert_eq!((report.delivered, report.deferred), (0, 1), "{report:?}");
    let error = a.ctx.store.queue().await.unwrap()[0]
        .last_error
        .clone()
        .unwrap();
    assert!(
        error.contains("temporary failure 4.7.5: TLS handshake failed"),
        "{error}"
    );
    let refused = a.audit_kinds("smtp.outbound.refused").await;
    assert_eq!(refused.len(), 1);
    assert!(
        refused[0].detail["reason"]
            .as_str()
            .unwrap()
            .starts_with("TLS handshake failed")
    );
    assert!(b.inbox(RECIPIENT).await.is_empty());
    peer.stop();
}

/// A server that never offers STARTTLS: records the commands it received.
async fn plain_server() -> (u16, tokio::task::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (read, mut write) = tcp.into_split();
        let mut lines = BufReader::new(read).lines();
        write
            .write_all(b"220 plain.example ESMTP\r\n")
            .await
            .unwrap();
        let mut seen = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            seen.push(line.clone());
            let reply: &[u8] = match line.split(' ').next().unwrap_or("") {
                "EHLO" => b"250-plain.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
                "QUIT" => b"221 bye\r\n",
                _ => b"250 OK\r\n",
            };
            write.write_all(reply).await.unwrap();
            if line == "QUIT" {
                break;
            }
        }
        seen
    });
    (port, task)
}

#[tokio::test]
async fn peer_without_starttls_gets_nothing() {
    let (a, _b) = two_operators().await;
    let (port, server) = plain_server().await;
    let runner = a.runner(port, |_| {});
    a.enqueue(
        Some(SENDER),
        &[RECIPIENT],
        &sample_message("cleartext"),
        DsnParams::default(),
    )
    .await;

    let report = runner.run_once().await.unwrap();
    assert_eq!((report.delivered, report.deferred), (0, 1), "{report:?}");
    let seen = server.await.unwrap();
    assert_eq!(
        seen,
        vec![format!("EHLO mail.{DOMAIN_A}"), "QUIT".to_string()],
        "no MAIL in clear text"
    );
    let error = a.ctx.store.queue().await.unwrap()[0]
        .last_error
        .clone()
        .unwrap();
    assert!(
        error.contains("temporary failure 4.7.10: peer does not offer STARTTLS"),
        "{error}"
    );
    assert_eq!(a.audit_kinds("smtp.outbound.refused").await.len(), 1);
}
