#!/usr/bin/env bash
# A local certificate authority and a server certificate signed by it, for tests and demos:
#   deploy/make-ca.sh DIR [NAME...]
# makes, in DIR (created 0700): ca.key, ca.pem (the CA, kept when it exists), ca.crl (its empty
# revocation list), server.key, server.pem (the leaf), fullchain.pem (leaf then CA, what surveyd's
# --cert takes). The leaf names localhost, 127.0.0.1, ::1 and every NAME (a DNS name or an IP
# address). Keys are ECDSA P-256; the leaf is valid for 90 days, is for serverAuth only, and
# names a CRL distribution point (HTTP_CRL_URL, default http://localhost/survey-ca.crl) so that
# clients and scanners see how revocation is published. A production certificate comes from a
# real CA (ACME or the organisation's PKI); docs/operations.md says what surveyd accepts.
set -euo pipefail

prog=make-ca.sh
die() {
    echo "$prog: $*" >&2
    exit 1
}
[[ $# -ge 1 && $1 != -* ]] || {
    echo "usage: $prog DIR [NAME...]" >&2
    exit 2
}
command -v openssl >/dev/null || die "openssl is missing (apt-get install openssl)"

dir=$1
shift
crl_url=${HTTP_CRL_URL:-http://localhost/survey-ca.crl}
days=${LEAF_DAYS:-90}
umask 077
mkdir -p "$dir"
chmod 0700 "$dir"
cd "$dir"

# The CA's own database, as `openssl ca` wants it, for the revocation list.
mkdir -p ca.db
[[ -f ca.db/index.txt ]] || : >ca.db/index.txt
[[ -f ca.db/crlnumber ]] || echo 1000 >ca.db/crlnumber
cat >ca.cnf <<EOT
[ca]
default_ca = local_ca
[local_ca]
database = ca.db/index.txt
crlnumber = ca.db/crlnumber
certificate = ca.pem
private_key = ca.key
default_md = sha256
default_crl_days = 30
[req]
distinguished_name = dn
prompt = no
[dn]
CN = survey local test CA
[v3_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOT

if [[ ! -f ca.key || ! -f ca.pem ]]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -sha256 -days 3650 -config ca.cnf -extensions v3_ca \
        -out ca.pem
fi

# Subject alternative names: the loopback names always, then each argument.
san="DNS:localhost,IP:127.0.0.1,IP:::1"
for name in "$@"; do
    if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then
        san+=",IP:$name"
    else
        san+=",DNS:$name"
    fi
done
cn=${1:-localhost}

cat >server.cnf <<EOT
[req]
distinguished_name = dn
prompt = no
[dn]
CN = $cn
[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:$crl_url
EOT
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server.key 2>/dev/null
openssl req -new -key server.key -config server.cnf -out server.csr
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 \
    -days "$days" -extfile server.cnf -extensions v3_leaf -out server.pem 2>/dev/null
rm -f server.csr
cat server.pem ca.pem >fullchain.pem
openssl ca -config ca.cnf -gencrl -out ca.crl 2>/dev/null
openssl verify -CAfile ca.pem server.pem >/dev/null || die "the new certificate does not verify"
chmod 0644 ca.pem ca.crl server.pem fullchain.pem
echo "$prog: CA $PWD/ca.pem, certificate $PWD/fullchain.pem, key $PWD/server.key ($san)"
