#!/bin/sh
# hbd-send.sh: sends hb/1 heartbeats to hbd over UDP from hosts without Node.
# The same flags as `hbd send`; see docs/shell-sender.md, or run it with --help.
#
# Runs under any POSIX sh (dash, bash, busybox sh). Needs openssl to sign, and one
# UDP transport: socat, nc (OpenBSD's, or BusyBox's built with UDP), or bash's
# /dev/udp when run by bash.
#
# The HMAC pads are printf formats made only of octal escapes, never a '%' (SC2059); the
# functions that look unreachable are traps (SC2317).
# shellcheck disable=SC2059,SC2317

HBD_SEND_VERSION=0.1.0
DEFAULT_PORT=50003
MAX_DATAGRAM_BYTES=8192
MAX_MSG_CHARS=1024
MAX_EXTRA_FIELDS=32
MAX_FIELD_VALUE_CHARS=256

# Bytes, not characters, everywhere: character classes and ${#var} mean the same in every shell.
LC_ALL=C
export LC_ALL
# No word of user input may ever expand as a file name pattern.
set -fu

tab=$(printf '\t')
cr=$(printf '\r')
ff=$(printf '\f')
nl='
'

usage() {
	cat <<'EOF'
Usage: hbd-send.sh [options] [key=value ...]

Sends a heartbeat (or one every N seconds) to hbd over UDP, as `hbd send` does,
for hosts without Node. Extra key=value fields are labels or metrics of the host.

  --server HOST[:PORT]  where to send; repeat for several (default 127.0.0.1:50003;
                        IPv6 as [::1]:50003 or ::1)
  --host NAME           this host's name (default: the machine's name)
  --key-file FILE       sign with the secret in this file (surrounding whitespace ignored)
  --key SECRET          sign with this secret (visible in ps: prefer --key-file)
  --key-id ID           the id of the key, where hbd knows several for the host
  --status STATUS       ok, warn, fail or bye (default: ok)
  --msg TEXT            a message for people (at most 1024 characters)
  --ip4 ADDR, --ip6 ADDR  the address to publish in DNS instead of the source address
  --every SECONDS       send every N seconds until stopped (seq counts from 1); on
                        SIGINT or SIGTERM send status=bye and exit 0
  --count N             with --every: stop after N heartbeats
  --no-bye              with --every: stop without status=bye
  -q, --quiet           do not print a line per heartbeat sent
  --transport T         socat, nc or bash (default: the first of them found)
  --dry-run             print each datagram instead of sending it
  --ts SECONDS, --seq N fixed ts, first seq (for tests with --dry-run)
  --help, --version

Exit status: 0 sent (or a loop stopped by a signal), 1 a single heartbeat could not
be sent, 2 bad usage (options, key, key file, server).

Examples:
  hbd-send.sh --server hb.example.com --key-file /etc/hbd/key load=0.42 rack=r7
  hbd-send.sh --server [2001:db8::1]:50003 --status warn --msg "disk 91% full"
  hbd-send.sh --every 30 --key-file /etc/hbd/key
EOF
}

usage_error() {
	printf 'error: %s\n' "$1" >&2
	exit 2
}

warn() {
	printf 'warning: %s\n' "$1" >&2
}

have() {
	command -v "$1" >/dev/null 2>&1
}

# --- checks of what the user gave ------------------------------------------------

is_uint() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
}

# hb/1 keys: [a-z][a-z0-9_.-]{0,63}.
is_valid_key() {
	case $1 in [a-z]*) ;; *) return 1 ;; esac
	case $1 in *[!a-z0-9_.-]*) return 1 ;; esac
	[ ${#1} -le 64 ]
}

# A DNS host name: 1-253 characters, labels of [A-Za-z0-9-]{1,63} that neither start nor end with '-'.
is_valid_host() {
	[ -n "$1" ] && [ ${#1} -le 253 ] || return 1
	case $1 in .* | *. | *..* | *[!A-Za-z0-9.-]*) return 1 ;; esac
	vh_rest=$1
	while :; do
		vh_label=${vh_rest%%.*}
		[ ${#vh_label} -le 63 ] || return 1
		case $vh_label in -* | *-) return 1 ;; esac
		case $vh_rest in *.*) vh_rest=${vh_rest#*.} ;; *) return 0 ;; esac
	done
}

is_valid_ip4() {
	case $1 in *[!0-9.]* | .* | *. | *..*) return 1 ;; esac
	vi_rest=$1.
	vi_parts=0
	while [ -n "$vi_rest" ]; do
		vi_part=${vi_rest%%.*}
		vi_rest=${vi_rest#*.}
		vi_parts=$((vi_parts + 1))
		case $vi_part in 0 | [1-9] | [1-9][0-9] | 1[0-9][0-9] | 2[0-4][0-9] | 25[0-5]) ;; *) return 1 ;; esac
	done
	[ "$vi_parts" -eq 4 ]
}

# A loose check (hbd checks fully): hex groups and colons, maybe an IPv4 tail; no zone (%eth0).
is_valid_ip6() {
	case $1 in *:*) ;; *) return 1 ;; esac
	case $1 in *[!0-9A-Fa-f:.]* | *:::* | *::*::*) return 1 ;; esac
	[ ${#1} -le 45 ]
}

# UTF-8 characters (code points): every byte but the continuation bytes 0x80-0xBF.
char_count() {
	cc_count=$(printf '%s' "$1" | tr -d '\200-\277' | wc -c)
	echo $((cc_count))
}

# Whether $1 has more than $2 characters; bytes bound characters, so most values skip the count.
longer_than() {
	[ ${#1} -gt "$2" ] && [ "$(char_count "$1")" -gt "$2" ]
}

# A number as `hbd send` writes it (every=30): 030 -> 30, 1.50 -> 1.5, 2.0 -> 2.
normalize_number() {
	ns_int=${1%%.*}
	ns_frac=
	case $1 in *.*) ns_frac=${1#*.} ;; esac
	while :; do case $ns_frac in *0) ns_frac=${ns_frac%0} ;; *) break ;; esac; done
	while :; do case $ns_int in 0?*) ns_int=${ns_int#0} ;; *) break ;; esac; done
	[ -n "$ns_int" ] || ns_int=0
	echo "$ns_int${ns_frac:+.$ns_frac}"
}

# --- hb/1 text ----------------------------------------------------------------------

# Sets $replaced to $1 with every $2 replaced by $3.
replace_all() {
	ra_rest=$1
	replaced=
	while :; do
		case $ra_rest in
		*"$2"*)
			replaced=$replaced${ra_rest%%"$2"*}$3
			ra_rest=${ra_rest#*"$2"}
			;;
		*)
			replaced=$replaced$ra_rest
			return
			;;
		esac
	done
}

# Sets $quoted to the value as hb/1 reads it back unchanged: bare when it holds no
# whitespace or '"', else double-quoted with \" \\ \n \t escaped.
quote_value() {
	case $1 in
	'')
		quoted='""'
		return
		;;
	*'"'* | *' '* | *"$tab"* | *"$nl"* | *"$cr"* | *"$ff"*) ;;
	*)
		quoted=$1
		return
		;;
	esac
	# shellcheck disable=SC1003 # a lone backslash, not an escaped quote
	replace_all "$1" '\' '\\'
	replace_all "$replaced" '"' '\"'
	replace_all "$replaced" "$nl" '\n'
	replace_all "$replaced" "$tab" '\t'
	quoted="\"$replaced\""
}

# --- the secret and HMAC-SHA256 ------------------------------------------------------
#
# openssl takes an HMAC key only on its command line (-hmac, -macopt key: or hexkey:),
# where ps shows it to every user. So HMAC is computed here from its definition (RFC 2104),
#   HMAC(K, m) = SHA256((K ^ opad) || SHA256((K ^ ipad) || m)),
# with two `openssl dgst -sha256` runs that read everything from a pipe. The key's bytes
# come from od reading the file, are XORed by shell arithmetic, and reach the pipe through
# the shell's builtin printf: no process ever has the secret, or a pad made from it, in
# its arguments or environment.

# Sets $oe to byte $1 as a printf octal escape (\ooo), without forking.
octal_escape() {
	oe="\\$((($1 >> 6) & 7))$((($1 >> 3) & 7))$(($1 & 7))"
}

# Sets $trimmed_bytes to the decimal bytes $1 without ASCII whitespace at either end.
trim_bytes() {
	trimmed_bytes=
	tb_pending=
	for tb_byte in $1; do
		case $tb_byte in
		9 | 10 | 11 | 12 | 13 | 32)
			[ -n "$trimmed_bytes" ] && tb_pending="$tb_pending $tb_byte"
			continue
			;;
		esac
		trimmed_bytes="$trimmed_bytes$tb_pending $tb_byte"
		tb_pending=
	done
}

# Sets $ipad_format and $opad_format (printf formats of octal escapes) from the key's decimal bytes.
prepare_hmac_key() {
	pk_bytes=$1
	pk_count=0
	for pk_byte in $pk_bytes; do pk_count=$((pk_count + 1)); done
	if [ "$pk_count" -gt 64 ]; then
		# A key longer than SHA-256's block is hashed first.
		pk_format=
		for pk_byte in $pk_bytes; do
			octal_escape "$pk_byte"
			pk_format=$pk_format$oe
		done
		pk_bytes=$(printf "$pk_format" | openssl dgst -sha256 -binary | od -An -v -tu1)
		pk_count=32
	fi
	ipad_format=
	opad_format=
	for pk_byte in $pk_bytes; do
		octal_escape $((pk_byte ^ 54))
		ipad_format=$ipad_format$oe
		octal_escape $((pk_byte ^ 92))
		opad_format=$opad_format$oe
	done
	while [ "$pk_count" -lt 64 ]; do
		ipad_format="$ipad_format\\066"
		opad_format="$opad_format\\134"
		pk_count=$((pk_count + 1))
	done
}

# Prints the lowercase hex HMAC-SHA256 of $1 under the prepared key.
hmac_hex() {
	{
		printf "$opad_format"
		{
			printf "$ipad_format"
			printf '%s' "$1"
		} | openssl dgst -sha256 -binary
	} | openssl dgst -sha256 -binary | od -An -v -tx1 | tr -d ' \n'
}

# Sets $key_bytes from --key or --key-file; exits 2 when there is no usable secret.
read_secret() {
	if [ -n "$key_file" ]; then
		[ -e "$key_file" ] || usage_error "cannot read key file: $key_file: no such file"
		[ ! -d "$key_file" ] || usage_error "cannot read key file: $key_file is a directory"
		[ -r "$key_file" ] || usage_error "cannot read key file: $key_file: permission denied"
		rs_bytes=$(od -An -v -tu1 "$key_file") || usage_error "cannot read key file: $key_file"
		rs_mode=$(ls -lLn "$key_file" 2>/dev/null) || rs_mode=
		case $rs_mode in
		????r* | ???????r*)
			warn "key file $key_file can be read by other users than its owner (chmod 600 $key_file)"
			;;
		esac
		trim_bytes "$rs_bytes"
		[ -n "$trimmed_bytes" ] || usage_error "key file $key_file is empty"
		key_bytes=$trimmed_bytes
	else
		# As `hbd send --key`: the secret as given, spaces and all.
		[ -n "$key" ] || usage_error "--key is empty"
		key_bytes=$(printf '%s' "$key" | od -An -v -tu1)
	fi
}

# --- time ------------------------------------------------------------------------------

last_ts_ms=0

# Sets $ts to now in Unix seconds with up to 3 decimals, always later than the last one
# sent: hbd drops a signed heartbeat whose ts is not later than the last one it accepted,
# and BusyBox's date has no %N (whole seconds only), so two beats in one second would
# otherwise carry the same ts.
next_ts() {
	if [ -n "$fixed_ts" ]; then
		ts=$fixed_ts
		return
	fi
	nt_now=$(date +%s.%N)
	nt_seconds=${nt_now%%.*}
	nt_frac=${nt_now#*.}
	case $nt_frac in
	[0-9][0-9][0-9]*) nt_frac=${nt_frac%"${nt_frac#???}"} ;;
	*) nt_frac=000 ;;
	esac
	is_uint "$nt_seconds" || nt_seconds=$(date +%s)
	nt_ms=$((nt_seconds * 1000 + 1$nt_frac - 1000))
	[ "$nt_ms" -gt "$last_ts_ms" ] || nt_ms=$((last_ts_ms + 1))
	last_ts_ms=$nt_ms
	nt_frac=$((nt_ms % 1000 + 1000))
	nt_frac=${nt_frac#1}
	while :; do case $nt_frac in *0) nt_frac=${nt_frac%0} ;; *) break ;; esac; done
	ts=$((nt_ms / 1000))${nt_frac:+.$nt_frac}
}

# --- servers and transports ------------------------------------------------------------

# Appends "family,host,port" to $servers; `family` is 6 for an IPv6 literal, else 4.
add_server() {
	as_spec=$1
	as_port=$DEFAULT_PORT
	case $as_spec in
	\[*)
		as_inner=${as_spec#\[}
		case $as_inner in *\]*) ;; *) usage_error "--server \"$as_spec\": expected [ipv6]:port" ;; esac
		as_host=${as_inner%%\]*}
		as_rest=${as_inner#*\]}
		case $as_rest in
		'') ;;
		:*) as_port=${as_rest#:} ;;
		*) usage_error "--server \"$as_spec\": expected [ipv6]:port" ;;
		esac
		as_family=6
		;;
	*:*:*)
		as_host=$as_spec
		as_family=6
		;;
	*:*)
		as_host=${as_spec%:*}
		as_port=${as_spec##*:}
		as_family=4
		;;
	*)
		as_host=$as_spec
		as_family=4
		;;
	esac
	[ -n "$as_host" ] || usage_error "--server \"$as_spec\": no host"
	if [ "$as_family" = 6 ]; then
		case $as_host in
		*[!0-9A-Za-z:.%_-]*) usage_error "--server \"$as_spec\": \"$as_host\" is not an IPv6 address" ;;
		*:*) ;;
		*) usage_error "--server \"$as_spec\": \"$as_host\" is not an IPv6 address" ;;
		esac
	else
		is_valid_host "$as_host" || is_valid_ip4 "$as_host" ||
			usage_error "--server \"$as_spec\": \"$as_host\" is not a host name or address"
	fi
	case $as_port in
	'' | *[!0-9]* | ??????*) usage_error "--server \"$as_spec\": port must be 1 to 65535" ;;
	esac
	as_port=$(normalize_number "$as_port")
	if [ "$as_port" -lt 1 ] || [ "$as_port" -gt 65535 ]; then
		usage_error "--server \"$as_spec\": port must be 1 to 65535"
	fi
	servers="$servers $as_family,$as_host,$as_port"
}

# Sets $s_family, $s_host, $s_port and $s_label from one entry of $servers.
split_server() {
	s_family=${1%%,*}
	s_port=${1##*,}
	s_host=${1#*,}
	s_host=${s_host%,*}
	if [ "$s_family" = 6 ]; then s_label="[$s_host]:$s_port"; else s_label="$s_host:$s_port"; fi
}

# Sets $nc_kind to openbsd or busybox when `nc` can send UDP the way this script uses it.
detect_nc() {
	nc_kind=
	have nc || return 1
	dn_help=$(nc -h 2>&1 </dev/null)
	case $dn_help in
	*OpenBSD*) nc_kind=openbsd ;;
	# BusyBox builds nc with UDP (-u) only with NC_110_COMPAT, as Alpine does; Debian does not.
	*BusyBox*) case $dn_help in *'-u'*) nc_kind=busybox ;; esac ;;
	esac
	[ -n "$nc_kind" ]
}

has_bash_udp() {
	[ -n "${BASH_VERSION:-}" ]
}

choose_transport() {
	case $transport in
	'')
		if have socat; then
			transport=socat
		elif detect_nc; then
			transport=nc
		elif has_bash_udp; then
			transport=bash
		else
			usage_error "no way to send UDP here: install socat or netcat-openbsd (Alpine: BusyBox's nc does), or run this script with bash (/dev/udp)"
		fi
		;;
	socat) have socat || usage_error "--transport socat: socat is not installed" ;;
	nc)
		detect_nc || usage_error "--transport nc: no nc that sends UDP (OpenBSD's, or BusyBox's with -u) is installed"
		;;
	bash) has_bash_udp || usage_error "--transport bash: run this script with bash (bash hbd-send.sh ...)" ;;
	*) usage_error "--transport must be socat, nc or bash" ;;
	esac
	have dd || [ "$transport" != bash ] || usage_error "--transport bash needs dd"
}

# Sends the datagram in $datagram_file to one server; on failure, sets $send_error.
send_to() {
	split_server "$1"
	# Each transport reads the datagram from a regular file, where one read gets all of it,
	# and sends it with one write: one datagram.
	case $transport in
	socat)
		if [ "$s_family" = 6 ]; then st_address="UDP6-SENDTO:[$s_host]:$s_port"; else st_address="UDP-SENDTO:$s_host:$s_port"; fi
		send_error=$(socat -u -b "$MAX_DATAGRAM_BYTES" - "$st_address" 2>&1 <"$datagram_file")
		st_status=$?
		;;
	nc)
		if [ "$nc_kind" = openbsd ]; then
			send_error=$(nc -u -w0 "$s_host" "$s_port" 2>&1 <"$datagram_file" >/dev/null)
		else
			# BusyBox's nc waits for a reply until -w times out (twice), or an ICMP error ends it.
			send_error=$(nc -u -w1 "$s_host" "$s_port" 2>&1 <"$datagram_file" >/dev/null)
		fi
		st_status=$?
		;;
	bash)
		# dd, not printf: bash's printf writes through a 4096-byte buffer, which would split a
		# longer datagram in two.
		# shellcheck disable=SC3025 # only under bash, which has_bash_udp checks
		send_error=$({ dd bs="$MAX_DATAGRAM_BYTES" count=1 <"$datagram_file" >"/dev/udp/$s_host/$s_port"; } 2>&1)
		st_status=$?
		# Keep bash's words, without dd's record counts or bash's "script: line N:".
		send_error=$(printf '%s\n' "$send_error" |
			sed -e '/^[0-9][0-9]*+[0-9][0-9]* records /d' -e '/^[0-9][0-9]* bytes/d' -e 's/^.*: line [0-9]*: //')
		;;
	esac
	if [ "$st_status" -eq 0 ]; then
		send_error=
		return 0
	fi
	# The last line says most; socat starts its lines with a date and "socat[pid] E".
	send_error=$(printf '%s\n' "$send_error" | sed -e '/^$/d' -e 's/^.*socat\[[0-9]*\] [A-Z] //' | tail -n 1)
	[ -n "$send_error" ] || send_error="$transport exited with status $st_status"
	return 1
}

# --- arguments --------------------------------------------------------------------------

servers=
host=
host_given=0
key=
key_given=0
key_file=
key_id=
status=
msg=
msg_given=0
ip4=
ip6=
every=
count=
bye=1
quiet=0
transport=
dry_run=0
fixed_ts=
first_seq=1
extra_text=
extra_keys=' '
extra_count=0
fields_only=0
while [ $# -gt 0 ]; do
	arg=$1
	shift
	case $fields_only$arg in
	1*)
		option=
		value_given=0
		;;
	0--*=*)
		option=${arg%%=*}
		value=${arg#*=}
		value_given=1
		;;
	0-q)
		option=--quiet
		value_given=0
		;;
	*)
		option=$arg
		value=
		value_given=0
		;;
	esac
	case $option in
	--server | --host | --key | --key-file | --key-id | --status | --msg | --ip4 | --ip6 | --every | --count | \
		--transport | --ts | --seq)
		if [ "$value_given" = 0 ]; then
			[ $# -gt 0 ] || usage_error "option $option needs a value"
			value=$1
			shift
		fi
		;;
	--no-bye | --quiet | --dry-run | --help | --version | --zlib)
		[ "$value_given" = 0 ] || usage_error "option $option takes no value"
		;;
	--) fields_only=1 ;;
	-?*)
		usage_error "unknown option $option (see --help)"
		;;
	esac
	case $option in
	--server) add_server "$value" ;;
	--host)
		host=$value
		host_given=1
		;;
	--key)
		key=$value
		key_given=1
		;;
	--key-file)
		[ -n "$value" ] || usage_error "--key-file is empty"
		key_file=$value
		;;
	--key-id)
		case $value in '' | *[!!-~]* | *'"'*) usage_error "--key-id must be 1 to 64 printable ASCII characters, without '\"'" ;; esac
		[ ${#value} -le 64 ] || usage_error "--key-id must be 1 to 64 printable ASCII characters, without '\"'"
		key_id=$value
		;;
	--status)
		case $value in ok | warn | fail | bye) status=$value ;; *) usage_error "--status must be ok, warn, fail or bye" ;; esac
		;;
	--msg)
		longer_than "$value" "$MAX_MSG_CHARS" && usage_error "--msg is longer than $MAX_MSG_CHARS characters"
		msg=$value
		msg_given=1
		;;
	--ip4)
		is_valid_ip4 "$value" || usage_error "--ip4 \"$value\" is not an IPv4 address"
		ip4=$value
		;;
	--ip6)
		is_valid_ip6 "$value" || usage_error "--ip6 \"$value\" is not an IPv6 address"
		ip6=$value
		;;
	--every)
		case $value in
		'' | *[!0-9.]* | .* | *. | *.*.*) usage_error "--every: expected seconds > 0" ;;
		esac
		case $value in *[1-9]*) ;; *) usage_error "--every: expected seconds > 0" ;; esac
		every=$(normalize_number "$value")
		;;
	--count)
		case $value in '' | *[!0-9]* | ????????????????*) usage_error "--count: expected an integer > 0" ;; esac
		case $value in *[1-9]*) ;; *) usage_error "--count: expected an integer > 0" ;; esac
		count=$(normalize_number "$value")
		;;
	--no-bye) bye=0 ;;
	--quiet) quiet=1 ;;
	--transport) transport=$value ;;
	--dry-run) dry_run=1 ;;
	--ts)
		case $value in
		'' | *[!0-9.]* | .* | *. | *.*.* | *.????*) usage_error "--ts: expected Unix seconds with at most 3 decimals" ;;
		esac
		fixed_ts=$value
		;;
	--seq)
		case $value in '' | *[!0-9]* | ????????????????*) usage_error "--seq: expected an unsigned integer" ;; esac
		first_seq=$(normalize_number "$value")
		;;
	--help)
		usage
		exit 0
		;;
	--version)
		echo "hbd-send.sh $HBD_SEND_VERSION (hb/1 heartbeat sender in POSIX sh)"
		exit 0
		;;
	--zlib) usage_error "--zlib: this sender cannot compress; send uncompressed, or use hbd send" ;;
	--) ;;
	*)
		case $arg in *=*) ;; *) usage_error "field \"$arg\" is not key=value" ;; esac
		field_key=${arg%%=*}
		field_value=${arg#*=}
		case $field_key in
		host | ts | seq | every | status | msg | ip4 | ip6 | key | sig)
			usage_error "extra field \"$field_key\" is a hb/1 field: set it by its own option"
			;;
		esac
		is_valid_key "$field_key" ||
			usage_error "extra field key \"$field_key\" is invalid: keys are [a-z][a-z0-9_.-]{0,63}"
		case $extra_keys in *" $field_key "*) usage_error "field \"$field_key\" is given twice" ;; esac
		extra_count=$((extra_count + 1))
		[ "$extra_count" -le "$MAX_EXTRA_FIELDS" ] || usage_error "more than $MAX_EXTRA_FIELDS extra fields"
		longer_than "$field_value" "$MAX_FIELD_VALUE_CHARS" &&
			usage_error "field \"$field_key\" is longer than $MAX_FIELD_VALUE_CHARS characters"
		quote_value "$field_value"
		extra_text="$extra_text $field_key=$quoted"
		extra_keys="$extra_keys$field_key "
		;;
	esac
done

# --- what follows from the arguments ----------------------------------------------------

[ -z "$count" ] || [ -n "$every" ] || usage_error "--count needs --every"
[ "$key_given" = 0 ] || [ -z "$key_file" ] || usage_error "use --key or --key-file, not both"
signed=0
signed_word=unsigned
if [ "$key_given" = 1 ] || [ -n "$key_file" ]; then
	signed=1
	signed_word=signed
	have openssl || usage_error "signing needs openssl, which is not installed"
	have od || usage_error "signing needs od, which is not installed"
	read_secret
	prepare_hmac_key "$key_bytes"
	key_bytes=
	key=
	# Signing must work before anything is sent: a broken openssl is a setup problem.
	case $(hmac_hex probe) in
	????????????????????????????????????????????????????????????????) ;;
	*) usage_error "openssl cannot compute SHA-256 here" ;;
	esac
elif [ -n "$key_id" ]; then
	usage_error "--key-id needs --key or --key-file"
fi

if [ "$host_given" = 1 ]; then
	is_valid_host "$host" || usage_error "invalid host name \"$host\": 1-253 characters, labels of letters, digits and '-'"
else
	host=$(uname -n)
	is_valid_host "$host" || host=${host%%.*}
	is_valid_host "$host" || usage_error "this machine's name \"$(uname -n)\" is not a valid host name: pass --host"
fi
host=$(printf '%s' "$host" | tr '[:upper:]' '[:lower:]')

[ -n "$servers" ] || add_server "127.0.0.1:$DEFAULT_PORT"

case $every in *.*)
	sleep 0.001 2>/dev/null || usage_error "--every $every: this system's sleep takes whole seconds only"
	;;
esac

[ "$dry_run" = 1 ] || choose_transport

msg_text=
if [ "$msg_given" = 1 ]; then
	quote_value "$msg"
	msg_text=" msg=$quoted"
fi
# What follows `status` in every heartbeat, in hb/1's order (as `hbd send` writes it).
after_status_text="${msg_text}${ip4:+ ip4=$ip4}${ip6:+ ip6=$ip6}${key_id:+ key=$key_id}$extra_text"

datagram_file=
cleanup() {
	[ -z "$datagram_file" ] || rm -f "$datagram_file"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ "$dry_run" = 0 ]; then
	datagram_file=$(mktemp 2>/dev/null) || {
		datagram_file=${TMPDIR:-/tmp}/hbd-send.$$
		(umask 077 && set -C && : >"$datagram_file") 2>/dev/null ||
			usage_error "cannot create a temporary file in ${TMPDIR:-/tmp}"
	}
fi

# --- sending ----------------------------------------------------------------------------

# Servers failing now, as " label label ", so a loop warns once per outage, not once per beat.
failing=' '

# Builds one heartbeat and sends it to every server. $1: seq (empty for none), $2: status
# override (empty for none), $3: fail or warn, what to do when a server cannot be reached.
# Returns 1 when some server could not be reached.
beat() {
	next_ts
	b_status=${2:-$status}
	b_text="host=$host ts=$ts${1:+ seq=$1}${every:+ every=$every}${b_status:+ status=$b_status}$after_status_text"
	if [ "$signed" = 1 ]; then
		b_sig=$(hmac_hex "$b_text")
		case $b_sig in
		????????????????????????????????????????????????????????????????) ;;
		*)
			printf 'error: cannot sign: openssl failed\n' >&2
			return 1
			;;
		esac
		b_text="$b_text sig=$b_sig"
	fi
	if [ "$dry_run" = 1 ]; then
		printf '%s\n' "$b_text"
		return 0
	fi
	printf '%s' "$b_text" >"$datagram_file"
	b_bytes=$(wc -c <"$datagram_file")
	b_bytes=$((b_bytes))
	if [ "$b_bytes" -gt "$MAX_DATAGRAM_BYTES" ]; then
		printf 'error: heartbeat is %s bytes, over the %s-byte limit\n' "$b_bytes" "$MAX_DATAGRAM_BYTES" >&2
		return 2
	fi
	b_result=0
	for b_server in $servers; do
		if send_to "$b_server"; then
			# The words of `hbd send`: one line per server the heartbeat went to.
			[ "$quiet" = 1 ] || printf 'sent %s status=%s%s to %s (%s)\n' \
				"$host" "${b_status:-ok}" "${1:+ seq=$1}" "$s_label" "$signed_word"
			case $failing in *" $s_label "*)
				failing=${failing%%" $s_label "*}' '${failing#*" $s_label "}
				warn "sending to $s_label works again"
				;;
			esac
		else
			b_result=1
			if [ "$3" = fail ]; then
				printf 'error: cannot send to %s: %s\n' "$s_label" "$send_error" >&2
			else
				case $failing in *" $s_label "*) ;; *)
					failing="$failing$s_label "
					warn "cannot send to $s_label: $send_error; still sending every $every s"
					;;
				esac
			fi
		fi
	done
	return "$b_result"
}

if [ -z "$every" ]; then
	beat '' '' fail
	exit $?
fi

stop=0
sleeper=
on_stop() {
	stop=1
	[ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null
}
trap on_stop INT TERM

seq=$first_seq
sent=0
while :; do
	beat "$seq" '' warn
	[ $? -ne 2 ] || exit 2
	sent=$((sent + 1))
	[ -z "$count" ] || [ "$sent" -lt "$count" ] || break
	[ "$stop" = 0 ] || break
	sleep "$every" &
	sleeper=$!
	# A signal that came before $sleeper was set found nothing to kill.
	[ "$stop" = 0 ] || kill "$sleeper" 2>/dev/null
	# Returns at once when a trapped signal arrives; the trap then ends the sleep.
	wait "$sleeper"
	sleeper=
	[ "$stop" = 0 ] || break
	seq=$((seq + 1))
done

if [ "$stop" = 1 ] && [ "$bye" = 1 ]; then
	beat $((seq + 1)) bye warn
fi
exit 0
