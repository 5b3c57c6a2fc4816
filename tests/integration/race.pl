#!/usr/bin/perl
# race.pl: readers racing group creation and removal.
#
#   perl race.pl read SECONDS NCPU DIR...   read every control file of each
#       DIR (open, read to EOF, close) until SECONDS pass; print one line of
#       counts: "ok N gone N empty N partial N error N" and, for each bad
#       read, a "# " line saying which file and what came back.
#   perl race.pl churn SECONDS DIR...        mkdir and rmdir each DIR in turn
#       until SECONDS pass; print "cycles N".
#
# A read of a DIR that is being removed may fail with ENOENT or ENODEV (the
# kernel's answers: path gone, or group gone under an open file): "gone".
# An empty or malformed text of a file is "empty" / "partial"; any other
# error is "error".
use strict;
use warnings;
use Errno qw(ENOENT ENODEV);
use Time::HiRes qw(time);

my %shape = (
	'cpuacct.usage'             => qr/\A\d+\n\z/,
	'cpuacct.usage_user'        => qr/\A\d+\n\z/,
	'cpuacct.usage_sys'         => qr/\A\d+\n\z/,
	'cpuacct.stat'              => qr/\Auser \d+\nsystem \d+\n\z/,
	'notify_on_release'         => qr/\A[01]\n\z/,
	'cgroup.clone_children'     => qr/\A[01]\n\z/,
);

sub percpu_ok {
	my ($text, $ncpu) = @_;
	return $text =~ /\A(\d+ ){$ncpu}\n\z/;
}

sub all_ok {
	my ($text, $ncpu) = @_;
	return $text =~ /\Acpu user system\n(\d+ \d+ \d+\n){$ncpu}\z/;
}

sub well_formed {
	my ($file, $text, $ncpu) = @_;
	return all_ok($text, $ncpu) if $file eq 'cpuacct.usage_all';
	return percpu_ok($text, $ncpu) if $file =~ /^cpuacct\.usage_percpu/;
	return $text =~ $shape{$file};
}

sub read_all {
	my ($path) = @_;
	my ($text, $buf) = ('', '');
	open(my $fh, '<', $path) or return (undef, $! + 0);
	while (1) {
		my $n = sysread($fh, $buf, 131072);
		if (!defined $n) {
			my $e = $! + 0;
			close $fh;
			return (undef, $e);
		}
		last if $n == 0;
		$text .= $buf;
	}
	close $fh;
	return ($text, 0);
}

sub readers {
	my ($secs, $ncpu, @dirs) = @_;
	my @files = (keys %shape, 'cpuacct.usage_all', 'cpuacct.usage_percpu',
		     'cpuacct.usage_percpu_user', 'cpuacct.usage_percpu_sys');
	my %n = map { $_ => 0 } qw(ok gone empty partial error padded);
	my @bad;
	my $end = time + $secs;
	while (time < $end) {
		for my $d (@dirs) {
			for my $f (@files) {
				my ($text, $err) = read_all("$d/$f");
				my $kind;
				if (!defined $text) {
					$kind = ($err == ENOENT || $err == ENODEV)
					    ? 'gone' : 'error';
					$text = "errno $err";
				} elsif ($text eq '') {
					$kind = 'empty';
				} elsif ($text =~ /^([^\0]+)\0+$/ &&
					 well_formed($f, $1, $ncpu)) {
					# the whole text, then the zeros of a
					# size the kernel kept (see t_cache_race)
					$kind = 'padded';
				} else {
					$kind = well_formed($f, $text, $ncpu)
					    ? 'ok' : 'partial';
				}
				$n{$kind}++;
				if ($kind ne 'ok' && $kind ne 'gone' && @bad < 10) {
					(my $show = $text) =~ s/\n/\\n/g;
					$show =~ s/\0/\\0/g;
					push @bad, "# $kind: $d/$f: '$show'";
				}
			}
		}
	}
	print join(' ', map { "$_ $n{$_}" } qw(ok gone empty partial error padded)),
	    "\n";
	print "$_\n" for @bad;
}

sub churn {
	my ($secs, @dirs) = @_;
	my $cycles = 0;
	my $end = time + $secs;
	while (time < $end) {
		mkdir $_ for @dirs;
		rmdir $_ for @dirs;
		$cycles++;
	}
	print "cycles $cycles\n";
}

my $mode = shift @ARGV;
if ($mode eq 'read') {
	readers(@ARGV);
} elsif ($mode eq 'churn') {
	churn(@ARGV);
} else {
	die "usage: race.pl read|churn ...\n";
}
