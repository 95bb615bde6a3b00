//! The binary over HTTP with both verifiers configured: RS256 tokens checked against a JWKS
//! file (a key pair made by the openssl CLI at test time; no private key is committed) and
//! HS256 tokens against the shared secret. A refused token is HTTP 401 with
//! `extensions.code = "UNAUTHENTICATED"`; an unusable JWKS file stops `serve` with exit 2.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use jsonwebtoken::{encode, get_current_timestamp, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

const SECRET: &str = "http-test-secret";

/// An RSA key pair: the PKCS#1 DER private key (to sign) and the JWK of its public key.
struct KeyPair {
    der: Vec<u8>,
    jwk: Value,
}

fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn key_pair(dir: &Path, kid: &str) -> KeyPair {
    let pem = format!("{kid}.pem");
    let der = format!("{kid}.der");
    openssl(dir, &["genrsa", "-out", &pem, "2048"]);
    openssl(
        dir,
        &[
            "rsa",
            "-in",
            &pem,
            "-outform",
            "DER",
            "-traditional",
            "-out",
            &der,
        ],
    );
    let modulus = openssl(dir, &["rsa", "-in", &pem, "-noout", "-modulus"]);
    let hex = modulus.trim().trim_start_matches("Modulus=");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    KeyPair {
        der: std::fs::read(dir.join(der)).expect("der"),
        jwk: json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n, "e": "AQAB"}),
    }
}

fn rs256(key: &KeyPair, kid: &str, claims: Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    encode(&header, &claims, &EncodingKey::from_rsa_der(&key.der)).expect("sign RS256")
}

fn hs256(claims: Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign HS256")
}

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "fraiseql-tenants-http-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn serve(dir: &Path, jwks: &Path) -> Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_multi-tenant"))
        .arg("serve")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("app.db").display()),
        )
        .env("FRAISEQL_BIND", format!("127.0.0.1:{port}"))
        .env("FRAISEQL_JWKS_FILE", jwks)
        .env("FRAISEQL_JWT_SECRET", SECRET)
        .env("REDIS_URL", "")
        .env("NATS_URL", "")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    while http(port, "GET", "/health/live", &[], "").is_none() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// Status, headers (lowercased names) and body.
type Response<B> = (u16, Vec<(String, String)>, B);

/// One request; `None` when nothing listens.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<Response<String>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some((status, headers, body.to_owned()))
}

fn graphql(server: &Server, token: Option<&str>, query: &str) -> Response<Value> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth.as_str()));
    }
    let body = json!({ "query": query }).to_string();
    let (status, headers, body) =
        http(server.port, "POST", "/graphql", &headers, &body).expect("a response");
    let json = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    (status, headers, json)
}

#[test]
fn rs256_from_a_jwks_file_and_401_for_refused_tokens() {
    let dir = temp_dir("rs256");
    let key = key_pair(&dir, "k1");
    let stranger = key_pair(&dir, "k2");
    let jwks = dir.join("jwks.json");
    std::fs::write(&jwks, json!({"keys": [key.jwk]}).to_string()).expect("jwks");
    let server = serve(&dir, &jwks);
    let later = get_current_timestamp() + 3600;

    // RS256, key by kid: accepted, and its claims scope the rows it writes and reads.
    let acme = rs256(
        &key,
        "k1",
        json!({"tenant": "acme", "sub": "ann", "exp": later}),
    );
    let (status, _, body) = graphql(
        &server,
        Some(&acme),
        "mutation { createProject(input: {name: \"Rocket\"}) { tenantId name } }",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["createProject"]["tenantId"], "acme");
    let (status, headers, body) = graphql(&server, Some(&acme), "{ projects { name } }");
    assert_eq!(
        (status, &body["data"]),
        (200, &json!({"projects": [{"name": "Rocket"}]}))
    );
    // Row-filtered data depends on the token: private to HTTP caches, varying by it.
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert!(
        header("cache-control").starts_with("private"),
        "{headers:?}"
    );
    assert!(header("vary").contains("Authorization"), "{headers:?}");

    // HS256 beside it, another tenant: sees nothing of acme's.
    let globex = hs256(json!({"tenant": "globex", "exp": later}));
    let (status, _, body) = graphql(&server, Some(&globex), "{ projects { name } }");
    assert_eq!((status, &body["data"]), (200, &json!({"projects": []})));

    // Anonymous: no header, 200, no rows.
    let (status, _, body) = graphql(&server, None, "{ projects { name } }");
    assert_eq!((status, &body["data"]), (200, &json!({"projects": []})));

    // Refused tokens: 401, UNAUTHENTICATED, a Bearer challenge, no data, no token echoed.
    let forged = rs256(&stranger, "k1", json!({"tenant": "acme", "exp": later}));
    let unknown_kid = rs256(&stranger, "k2", json!({"tenant": "acme", "exp": later}));
    let expired = rs256(
        &key,
        "k1",
        json!({"tenant": "acme", "exp": get_current_timestamp() - 3600}),
    );
    for (what, token) in [
        ("wrong signature", forged.as_str()),
        ("unknown kid", unknown_kid.as_str()),
        ("expired", expired.as_str()),
        ("garbage", "abc.def.ghi"),
    ] {
        let (status, headers, body) = graphql(&server, Some(token), "{ projects { name } }");
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{what}"
        );
        assert!(body.get("data").is_none(), "{what}: {body}");
        assert!(
            headers
                .iter()
                .any(|(n, v)| n == "www-authenticate" && v == "Bearer"),
            "{what}: {headers:?}"
        );
        let text = body.to_string();
        assert!(
            !text.contains(&token[..token.len().min(16)]),
            "{what}: token echoed: {text}"
        );
    }
    let (_, _, body) = graphql(&server, Some(&expired), "{ projects { name } }");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("expired")),
        "{body}"
    );
}

#[test]
fn an_unusable_jwks_file_stops_serve_with_exit_2() {
    let dir = temp_dir("badjwks");
    let bad = dir.join("jwks.json");
    std::fs::write(&bad, "{\"keys\": []}").expect("write");
    for file in [bad, dir.join("missing.json")] {
        let out = Command::new(env!("CARGO_BIN_EXE_multi-tenant"))
            .arg("serve")
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.join("app.db").display()),
            )
            .env("FRAISEQL_JWKS_FILE", &file)
            .env("FRAISEQL_BIND", "127.0.0.1:0")
            .output()
            .expect("run serve");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("FRAISEQL_JWKS_FILE"), "{stderr}");
    }
}

/// `explain` shows the row filter as a bound claim in every statement that reads a filtered
/// type, on both dialects: root list and lookup, the batched has-many inside its one statement
/// (LATERAL on PostgreSQL, the windowed subquery on SQLite), the many-to-one batch, and a
/// mutation's re-read.
#[test]
fn explain_shows_the_row_filter_in_every_statement() {
    let dir = temp_dir("explain");
    let query = dir.join("q.graphql");
    std::fs::write(
        &query,
        "{ projects { id tasks { id project { name } } } project(id: 1) { name } }",
    )
    .expect("query");
    let mutation = dir.join("m.graphql");
    std::fs::write(
        &mutation,
        "mutation { updateProject(id: 1, input: {name: \"x\"}) { name } }",
    )
    .expect("mutation");
    let sqlite = format!("sqlite://{}", dir.join("app.db").display());
    // `explain` never connects: any PostgreSQL URL selects the dialect.
    for url in [sqlite.as_str(), "postgres://nobody@127.0.0.1:1/none"] {
        let explain = |file: &Path| {
            let out = Command::new(env!("CARGO_BIN_EXE_multi-tenant"))
                .arg("explain")
                .arg(file)
                .env("DATABASE_URL", url)
                .output()
                .expect("run explain");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let text = explain(&query);
        let statements: Vec<&str> = text.lines().filter(|l| l.contains("sql: ")).collect();
        assert_eq!(statements.len(), 4, "{text}");
        for sql in &statements {
            assert!(
                sql.contains("t.\"tenant_id\" = $"),
                "{url}: unfiltered: {sql}"
            );
        }
        assert_eq!(
            text.matches("= claim tenant (row filter)").count(),
            4,
            "{text}"
        );
        let text = explain(&mutation);
        assert!(
            text.contains("$2 = claim tenant (row filter)"),
            "{url}: {text}"
        );
    }
}
