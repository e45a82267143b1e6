#!/usr/bin/env bash
# Writes a throw-away PKI for TLS tests into DIR (created if missing):
#   ca.pem/ca.key                  test CA
#   server.pem/server.key          signed by ca; SAN IP:127.0.0.1, DNS:localhost; serverAuth
#   client.pem/client.key          signed by ca; clientAuth
#   client.der/client-key.der      the client certificate and key in DER
#   other-ca.pem/other-ca.key      an unrelated CA (nothing is signed by it)
#   expired-server.pem/.key        signed by ca, same names as server.pem, expired years ago
# Keys are EC P-256 (fast to make). Needs the openssl CLI (1.1.1 or 3.x).
#
# Idempotent: when DIR already holds a complete set whose server certificate is
# good for another hour, it exits at once. Otherwise the set is made in a
# scratch folder and moved into place, so a reader never sees half of one.
# Quiet: prints nothing unless something fails.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
mkdir -p "$dir"

outputs=(ca.pem ca.key server.pem server.key client.pem client.key client.der client-key.der
         other-ca.pem other-ca.key expired-server.pem expired-server.key)

complete=1
for name in "${outputs[@]}"; do
    [[ -s "$dir/$name" ]] || { complete=0; break; }
done
if [[ $complete == 1 ]] && openssl x509 -in "$dir/server.pem" -noout -checkend 3600 >/dev/null 2>&1; then
    exit 0
fi

work=$(mktemp -d "$dir/.make-certs.XXXXXX")
trap 'rm -rf "$work"' EXIT
log="$work/openssl.log"

# Runs openssl with its chatter kept in the log, shown only on failure.
run() {
    if ! openssl "$@" >"$log" 2>&1; then
        echo "make-test-certificates: openssl $1 failed:" >&2
        cat "$log" >&2
        exit 1
    fi
}

new_key() { run ecparam -name prime256v1 -genkey -noout -out "$work/$1"; }

# Extensions for each kind of certificate.
cat >"$work/ext.cnf" <<'EOF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

# A self-signed CA: make_ca NAME SUBJECT
make_ca() {
    new_key "$1.key"
    run req -new -x509 -key "$work/$1.key" -subj "$2" -days 30 -sha256 \
        -config "$work/ext.cnf" -extensions ca -out "$work/$1.pem"
}

# A leaf signed by ca: make_leaf NAME SUBJECT SECTION
make_leaf() {
    new_key "$1.key"
    run req -new -key "$work/$1.key" -subj "$2" -out "$work/$1.csr"
    run x509 -req -in "$work/$1.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 2 -sha256 \
        -extfile "$work/ext.cnf" -extensions "$3" -out "$work/$1.pem"
}

make_ca ca "/CN=kserve-sim test CA"
make_ca other-ca "/CN=kserve-sim unrelated test CA"
make_leaf server "/CN=localhost" server
make_leaf client "/CN=kserve-sim test client" client

# `openssl x509` (before 3.4) cannot back-date a certificate, but `openssl ca`
# takes explicit start and end dates; it needs a small database to do so.
new_key expired-server.key
run req -new -key "$work/expired-server.key" -subj "/CN=localhost" -out "$work/expired-server.csr"
mkdir "$work/db"
: >"$work/db/index.txt"
openssl rand -hex 8 >"$work/db/serial"
cat >"$work/ca.cnf" <<EOF
[ca]
default_ca = test_ca

[test_ca]
database = $work/db/index.txt
new_certs_dir = $work/db
certificate = $work/ca.pem
private_key = $work/ca.key
serial = $work/db/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none

[anything]
commonName = supplied
EOF
run ca -batch -notext -config "$work/ca.cnf" \
    -startdate 20200101000000Z -enddate 20200102000000Z \
    -extfile "$work/ext.cnf" -extensions server \
    -in "$work/expired-server.csr" -out "$work/expired-server.pem"

run x509 -in "$work/client.pem" -outform DER -out "$work/client.der"
run pkcs8 -topk8 -nocrypt -in "$work/client.key" -outform DER -out "$work/client-key.der"

for name in "${outputs[@]}"; do
    mv -f "$work/$name" "$dir/$name"
done
