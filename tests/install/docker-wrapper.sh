#!/bin/sh
# contrib/docker/cpuacctfs-runc on fake bundles with a fake runc: a
# container that asks gets the three hooks after Docker's and a tmpfs at
# /sys/fs/cgroup instead of the cgroup mount, and runc gets the same
# argv; others are untouched; a bundle it cannot edit fails clearly.
set -u
top=$(cd "${srcdir:-.}" && pwd)
w=$top/contrib/docker/cpuacctfs-runc
t=$(mktemp -d) || exit 99
trap 'rm -rf "$t"' EXIT
cat >"$t/runc" <<'E'
#!/bin/sh
printf '%s\n' "$@" >"$RUNC_ARGV"
E
chmod +x "$t/runc"
export CPUACCTFS_RUNC="$t/runc" CPUACCTFS_HOOK=/x/hook RUNC_ARGV="$t/argv"
bundle() { # DIR ENV: a config.json like Docker's, with one hook
	mkdir -p "$1"
	cat >"$1/config.json" <<E
{"process": {"env": ["PATH=/bin", "$2"]},
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
  {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"}],
 "hooks": {"prestart": [{"path": "/usr/bin/dockerd", "args": ["libnetwork-setkey"]}],
  "poststop": [{"path": "/docker/own"}]}}
E
}
fail() { echo "$*"; exit 1; }
bundle "$t/a" CPUACCTFS=1
"$w" --root /run/r --log /l --log-format json create --bundle "$t/a" \
	--pid-file /p id1 || fail "wrapper failed"
printf '%s\n' --root /run/r --log /l --log-format json create --bundle \
	"$t/a" --pid-file /p id1 | cmp -s - "$t/argv" || fail "argv changed"
perl -MJSON::PP -e '
	open my $fh, "<", $ARGV[0] or die;
	my $c = decode_json(do { local $/; <$fh> });
	my @cg = grep { $_->{destination} eq "/sys/fs/cgroup" } @{ $c->{mounts} };
	@cg == 1 && $cg[0]{type} eq "tmpfs" or die "mounts wrong\n";
	$c->{hooks}{prestart}[0]{path} eq "/usr/bin/dockerd" or die "prestart lost\n";
	my $p = $c->{hooks}{poststop};
	@$p == 2 && $p->[0]{path} eq "/docker/own" && $p->[1]{path} eq "/x/hook"
		&& $p->[1]{args}[1] eq "poststop" or die "poststop wrong\n";
	for my $s (qw(createRuntime createContainer)) {
		$c->{hooks}{$s}[0]{args}[1] eq $s or die "$s missing\n";
	}' "$t/a/config.json" || fail "bundle a not edited right"
bundle "$t/b" OTHER=1
cp "$t/b/config.json" "$t/b.orig"
"$w" create -b "$t/b" id2 || fail "wrapper failed on b"
cmp -s "$t/b/config.json" "$t/b.orig" || fail "a container that did not ask was edited"
CPUACCTFS_ALL=1 "$w" create --bundle="$t/b" id2 || fail "wrapper failed on b, all"
grep -q /x/hook "$t/b/config.json" || fail "CPUACCTFS_ALL=1 did not edit"
rm -f "$t/argv"
"$w" state id3 || fail "state"
[ "$(cat "$t/argv")" = "state
id3" ] || fail "state argv"
rm -f "$t/argv"
mkdir -p "$t/c"
echo '{"broken' >"$t/c/config.json"
err=$("$w" create --bundle "$t/c" id4 2>&1) && fail "broken bundle accepted"
case $err in
*"cpuacctfs-runc: cannot add the cpuacctfs hooks to bundle $t/c: cannot parse"*) ;;
*) fail "message: $err" ;;
esac
[ ! -e "$t/argv" ] || fail "runc ran after the edit failed"
exit 0
