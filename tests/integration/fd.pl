#!/usr/bin/perl
# fd.pl: writes through a descriptor somebody else opened, so that tests
# can tell the opener's credentials from the writer's (CVE-2021-4197).
#   fd.pl write BYTES           one syswrite of BYTES to fd 3 (inherited)
#   fd.pl hold FILE             open FILE O_WRONLY, then sleep until killed
#   fd.pl grab PID FD BYTES     take fd FD of process PID (pidfd_getfd(2))
#                               and write BYTES to it with one syswrite
# Prints OK or the symbolic errno name.
use strict;
use warnings;
use Fcntl;
use Errno;

# asm-generic numbers, the same on every architecture since Linux 5.x
use constant { SYS_pidfd_open => 434, SYS_pidfd_getfd => 438 };

sub result {
	my ($ok) = @_;
	if ($ok) { print "OK\n"; exit 0 }
	for (keys %!) { if ($!{$_}) { print "$_\n"; exit 0 } }
	print "E" . ($! + 0) . "\n";
	exit 0;
}

my $cmd = shift @ARGV // '';
if ($cmd eq 'write') {
	open(my $fh, '>&=', 3) or result(0);
	result(defined syswrite($fh, $ARGV[0]));
} elsif ($cmd eq 'hold') {
	sysopen(my $fh, $ARGV[0], O_WRONLY) or result(0);
	sleep 1 while 1;
} elsif ($cmd eq 'grab') {
	my ($pid, $fd, $bytes) = @ARGV;
	my $pidfd = syscall(SYS_pidfd_open, $pid + 0, 0);
	result(0) if $pidfd < 0;
	my $got = syscall(SYS_pidfd_getfd, $pidfd, $fd + 0, 0);
	result(0) if $got < 0;
	open(my $fh, '>&=', $got) or result(0);
	result(defined syswrite($fh, $bytes));
} else {
	die "usage: fd.pl write BYTES | hold FILE | grab PID FD BYTES\n";
}
