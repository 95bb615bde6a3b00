//! How one PostgreSQL connection is opened: the URL's TLS options read as libpq reads them
//! (`sslmode`, `sslrootcert`), rustls for the encryption, and the session settings from
//! [`PoolSettings`] sent once on every new connection.
//!
//! tokio-postgres knows `sslmode=disable|prefer|require` but neither `verify-ca`/`verify-full`
//! nor `sslrootcert` (it refuses the URL), so those two are taken out of the URL here and the
//! certificate check is done by the rustls verifier we hand it:
//!
//! | `sslmode` | encrypted | certificate checked |
//! |---|---|---|
//! | absent, `disable` | no | - |
//! | `prefer` | when the server offers TLS | no |
//! | `require` | yes | no (as libpq does without a root certificate) |
//! | `verify-ca` | yes | signed by a CA in `sslrootcert` |
//! | `verify-full` | yes | signed by a CA in `sslrootcert`, and issued for the URL's host |
//!
//! An absent `sslmode` means plain (libpq would try TLS first): the server's own `pg_hba.conf`
//! decides whether plain is acceptable, and a URL that wants encryption says so.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use diesel::{ConnectionError, ConnectionResult};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{DbError, PoolSettings};

/// What `sslmode` in the URL asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TlsMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A PostgreSQL URL with the TLS options tokio-postgres does not read taken out.
#[derive(Debug)]
pub(crate) struct PgUrl {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) tls: TlsMode,
    pub(crate) root_cert: Option<PathBuf>,
}

impl PgUrl {
    /// Reads `postgres://…?sslmode=…&sslrootcert=…`. Errors never quote the URL (it may hold a
    /// password), only the option at fault.
    pub(crate) fn parse(url: &str) -> Result<PgUrl, DbError> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut kept: Vec<&str> = Vec::new();
        let (mut tls, mut root_cert) = (TlsMode::Disable, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = url::form_urlencoded::parse(pair.as_bytes())
                .next()
                .unwrap_or_default();
            match &*key {
                "sslmode" => {
                    tls = match &*value {
                        "disable" => TlsMode::Disable,
                        "prefer" => TlsMode::Prefer,
                        "require" => TlsMode::Require,
                        "verify-ca" => TlsMode::VerifyCa,
                        "verify-full" => TlsMode::VerifyFull,
                        other => {
                            return Err(DbError::InvalidUrl(format!(
                                "sslmode={other:?} is not one of disable, prefer, require, \
                                 verify-ca, verify-full"
                            )))
                        }
                    }
                }
                "sslrootcert" => root_cert = Some(PathBuf::from(&*value)),
                "sslcert" | "sslkey" | "sslpassword" => {
                    return Err(DbError::InvalidUrl(format!(
                        "{key} (a client certificate) is not supported; authenticate with a \
                         password or trust"
                    )))
                }
                // Everything else is tokio-postgres's to read, verbatim (still percent-encoded).
                _ => kept.push(pair),
            }
        }
        if matches!(tls, TlsMode::VerifyCa | TlsMode::VerifyFull) && root_cert.is_none() {
            return Err(DbError::InvalidUrl(format!(
                "sslmode={} needs sslrootcert=<file with the CA certificate(s), PEM>",
                if tls == TlsMode::VerifyCa {
                    "verify-ca"
                } else {
                    "verify-full"
                }
            )));
        }
        let stripped = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config: tokio_postgres::Config =
            stripped.parse().map_err(|e: tokio_postgres::Error| {
                DbError::InvalidUrl(format!("PostgreSQL URL: {e}"))
            })?;
        config.ssl_mode(match tls {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            TlsMode::Require | TlsMode::VerifyCa | TlsMode::VerifyFull => SslMode::Require,
        });
        Ok(PgUrl {
            config,
            tls,
            root_cert,
        })
    }
}

/// Opens connections for one pool: the parsed URL, the TLS connector (built once: reading the
/// root certificates is file I/O) and the session settings.
#[derive(Clone)]
pub(crate) struct PgConnector {
    config: Arc<tokio_postgres::Config>,
    tls: Option<MakeRustlsConnect>,
    /// `SET …` statements for every new connection, or `None` when nothing is configured.
    session_sql: Option<Arc<str>>,
    /// Set up inside one transaction: with the statement cache off we may be behind PgBouncer
    /// in transaction mode, and diesel-async's own setup (`SET TIME ZONE`, `SET
    /// CLIENT_ENCODING`) runs as two pipelined named statements, each Parse and Bind in a
    /// sync of its own, which the pooler may send to different server connections
    /// ("prepared statement s2 does not exist", seen with 6 clients on PgBouncer 1.18).
    setup_in_transaction: bool,
}

impl PgConnector {
    /// Fails when the URL is invalid or the root certificate file cannot be read.
    pub(crate) fn new(url: &str, settings: &PoolSettings) -> Result<PgConnector, DbError> {
        let parsed = PgUrl::parse(url)?;
        let tls = match parsed.tls {
            TlsMode::Disable => None,
            mode => Some(MakeRustlsConnect::new(client_config(
                mode,
                parsed.root_cert.as_deref(),
            )?)),
        };
        Ok(PgConnector {
            config: Arc::new(parsed.config),
            tls,
            session_sql: session_sql(settings).map(Arc::from),
            setup_in_transaction: !settings.statement_cache,
        })
    }

    /// A new connection, with the session settings applied.
    pub(crate) async fn establish(&self) -> ConnectionResult<AsyncPgConnection> {
        match &self.tls {
            None => {
                let (client, connection) = self
                    .config
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(bad_connection)?;
                self.set_up(client, connection).await
            }
            Some(tls) => {
                let (client, connection) = self
                    .config
                    .connect(tls.clone())
                    .await
                    .map_err(bad_connection)?;
                self.set_up(client, connection).await
            }
        }
    }

    async fn set_up<S>(
        &self,
        client: tokio_postgres::Client,
        connection: tokio_postgres::Connection<tokio_postgres::Socket, S>,
    ) -> ConnectionResult<AsyncPgConnection>
    where
        S: tokio_postgres::tls::TlsStream + Unpin + Send + 'static,
    {
        let session_sql = self.session_sql.as_deref().unwrap_or("");
        let setup_failed = ConnectionError::CouldntSetupConfiguration;
        if !self.setup_in_transaction {
            let mut conn =
                AsyncPgConnection::try_from_client_and_connection(client, connection).await?;
            if !session_sql.is_empty() {
                conn.batch_execute(session_sql)
                    .await
                    .map_err(setup_failed)?;
            }
            return Ok(conn);
        }
        // The socket task ends by itself once the client is dropped with the connection.
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "PostgreSQL connection ended");
            }
        });
        client
            .batch_execute("BEGIN")
            .await
            .map_err(bad_connection)?;
        let mut conn = AsyncPgConnection::try_from(client).await?;
        // A plain SET in a committed transaction stays for the session.
        conn.batch_execute(&format!("{session_sql}COMMIT"))
            .await
            .map_err(setup_failed)?;
        Ok(conn)
    }
}

fn bad_connection(error: tokio_postgres::Error) -> ConnectionError {
    ConnectionError::BadConnection(error.to_string())
}

/// The `SET` statements for the configured timeouts (milliseconds, PostgreSQL's unit for both);
/// none when neither is configured, so the server's or role's own settings apply.
pub(crate) fn session_sql(settings: &PoolSettings) -> Option<String> {
    let mut sql = String::new();
    let settings = [
        ("statement_timeout", settings.statement_timeout),
        (
            "idle_in_transaction_session_timeout",
            settings.idle_in_transaction_timeout,
        ),
    ];
    for (name, value) in settings {
        if let Some(value) = value {
            sql.push_str(&format!("SET {name} = {}; ", value.as_millis()));
        }
    }
    (!sql.is_empty()).then_some(sql)
}

/// The rustls configuration for `mode`, on the ring provider (no C toolchain beyond what
/// SQLite's bundled build already needs).
fn client_config(mode: TlsMode, root_cert: Option<&Path>) -> Result<ClientConfig, DbError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| DbError::Connect(format!("TLS setup: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = match (mode, root_cert) {
        (TlsMode::VerifyCa | TlsMode::VerifyFull, Some(path)) => {
            let roots = Arc::new(root_store(path)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| DbError::Connect(format!("TLS setup: {e}")))?;
            if mode == TlsMode::VerifyFull {
                webpki
            } else {
                Arc::new(CaOnly(webpki))
            }
        }
        _ => Arc::new(Unverified(provider)),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

fn root_store(path: &Path) -> Result<RootCertStore, DbError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        DbError::Connect(format!("cannot read sslrootcert {}: {e}", path.display()))
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))? {
        let cert = cert.map_err(|e| unreadable(&e))?;
        roots.add(cert).map_err(|e| unreadable(&e))?;
    }
    if roots.is_empty() {
        return Err(unreadable(&"no PEM certificate in the file"));
    }
    Ok(roots)
}

/// `sslmode=prefer|require`: encrypted, certificate not checked (libpq's behaviour without a
/// root certificate). The handshake signatures are still verified, so the session key belongs
/// to whoever holds the presented certificate.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain must end at a root from `sslrootcert`; the host name is not
/// compared with the certificate.
#[derive(Debug)]
struct CaOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for CaOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn tls_options_are_taken_out_of_the_url() {
        let url = PgUrl::parse(
            "postgres://u:secret@db.example:5433/app?application_name=x&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(url.tls, TlsMode::VerifyFull);
        assert_eq!(url.root_cert, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(url.config.get_ssl_mode(), SslMode::Require);
        assert_eq!(url.config.get_application_name(), Some("x"));
        assert_eq!(url.config.get_dbname(), Some("app"));

        let plain = PgUrl::parse("postgresql://h/db").unwrap();
        assert_eq!(plain.tls, TlsMode::Disable);
        assert_eq!(plain.config.get_ssl_mode(), SslMode::Disable);
        assert_eq!(
            PgUrl::parse("postgres://h/db?sslmode=require").unwrap().tls,
            TlsMode::Require
        );
    }

    #[test]
    fn bad_tls_options_are_refused_without_quoting_the_url() {
        let e = PgUrl::parse("postgres://u:secret@h/db?sslmode=always")
            .unwrap_err()
            .to_string();
        assert!(e.contains("sslmode=\"always\" is not one of"), "{e}");
        assert!(!e.contains("secret"), "{e}");
        let e = PgUrl::parse("postgres://u:secret@h/db?sslmode=verify-full")
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs sslrootcert="), "{e}");
        let e = PgUrl::parse("postgres://h/db?sslcert=c.pem")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not supported"), "{e}");
        let e = PgUrl::parse("postgres://u:secret@h/db?nonsense=1")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn session_settings_are_set_only_when_configured() {
        assert_eq!(session_sql(&PoolSettings::default()), None);
        let settings = PoolSettings {
            statement_timeout: Some(Duration::from_millis(1500)),
            idle_in_transaction_timeout: Some(Duration::from_secs(60)),
            ..PoolSettings::default()
        };
        assert_eq!(
            session_sql(&settings).as_deref(),
            Some("SET statement_timeout = 1500; SET idle_in_transaction_session_timeout = 60000; ")
        );
    }
}
