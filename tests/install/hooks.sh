#!/bin/sh
# make install puts the OCI hook in $(pkglibexecdir) and podman's hooks.d
# files, pointing at it, where podman reads them; make uninstall removes
# them. Runs from the build dir (make check), into a throwaway DESTDIR.
set -u
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
${MAKE:-make} -s install DESTDIR="$tmp" prefix=/usr >"$tmp.log" 2>&1 || {
	cat "$tmp.log"; rm -f "$tmp.log"; exit 1; }
rm -f "$tmp.log"
hook=/usr/libexec/cpuacctfs/cpuacctfs-oci-hook
dir=$tmp/usr/share/containers/oci/hooks.d
[ -x "$tmp$hook" ] || { echo "no executable $hook"; exit 1; }
wrapper=$tmp/usr/libexec/cpuacctfs/cpuacctfs-runc
[ -x "$wrapper" ] || { echo "no executable cpuacctfs-runc"; exit 1; }
grep -q "CPUACCTFS_HOOK:-$hook}" "$wrapper" ||
	{ echo "cpuacctfs-runc does not name $hook"; exit 1; }
for s in createRuntime createContainer poststop; do
	perl -MJSON::PP -e '
		my ($f, $s, $hook) = @ARGV;
		open my $fh, "<", $f or die "$f: $!\n";
		my $j = decode_json(do { local $/; <$fh> });
		$j->{version} eq "1.0.0" or die "$f: version\n";
		$j->{hook}{path} eq $hook or die "$f: path $j->{hook}{path}\n";
		$j->{hook}{args}[1] eq $s or die "$f: args\n";
		"@{$j->{stages}}" eq $s or die "$f: stages\n";
		my ($k, $v) = %{ $j->{when}{annotations} };
		"io.cpuacctfs" =~ /$k/ && "true" =~ /$v/ && "false" !~ /$v/
			or die "$f: when\n";
	' "$dir/cpuacctfs-$s.json" "$s" "$hook" || exit 1
done
${MAKE:-make} -s uninstall DESTDIR="$tmp" prefix=/usr >/dev/null 2>&1 ||
	{ echo "make uninstall failed"; exit 1; }
if ls "$dir"/cpuacctfs-* >/dev/null 2>&1 || [ -e "$tmp$hook" ] ||
	[ -e "$wrapper" ]; then
	echo "make uninstall left files behind"; exit 1
fi
exit 0
