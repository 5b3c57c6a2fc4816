#!/usr/bin/perl
# wr.pl [-e] [-a] [-t] [-o OFFSET] [-r COUNT] FILE BYTES
# Opens FILE with O_WRONLY (plus O_APPEND with -a, O_TRUNC with -t), writes
# BYTES with ONE syswrite (pwrite at OFFSET with -o), and prints OK or the
# symbolic errno name (EINVAL, ESRCH, ...). -e decodes \n \t \0 \xHH \\ in
# BYTES; -r COUNT repeats BYTES COUNT times. A short write prints SHORT n/m.
use strict;
use warnings;
use Fcntl;
use Errno;
use POSIX ();

my ($esc, $flags, $offset, $repeat) = (0, O_WRONLY, undef, 1);
while (@ARGV && $ARGV[0] =~ /^-[eatro]$/) {
    my $opt = shift @ARGV;
    if    ($opt eq '-e') { $esc = 1 }
    elsif ($opt eq '-a') { $flags |= O_APPEND }
    elsif ($opt eq '-t') { $flags |= O_TRUNC }
    elsif ($opt eq '-o') { $offset = shift @ARGV }
    elsif ($opt eq '-r') { $repeat = shift @ARGV }
    else { die "wr.pl: bad option $opt\n" }
}
shift @ARGV if @ARGV && $ARGV[0] eq '--';
die "usage: wr.pl [-e] [-a] [-t] [-o OFF] [-r N] FILE BYTES\n" unless @ARGV == 2;
my ($file, $bytes) = @ARGV;
if ($esc) {
    $bytes =~ s/\\(x[0-9a-fA-F]{2}|[nt0\\])/
        $1 eq 'n' ? "\n" : $1 eq 't' ? "\t" : $1 eq '0' ? "\0" :
        $1 eq '\\' ? '\\' : chr(hex(substr($1, 1)))/ge;
}
$bytes x= $repeat;

use Config;
sub pwrite_sysno {
    my $arch = $Config{archname};
    return 18 if $arch =~ /x86_64/;
    return 68 if $arch =~ /aarch64|riscv64/;
    return 180 if $arch =~ /i[3-6]86/;
    die "wr.pl: no pwrite syscall number for $arch\n";
}

sub errname {
    my $n = $! + 0;
    for my $name (keys %!) {
        return $name if $!{$name};
    }
    return "E$n";
}

sysopen(my $fh, $file, $flags) or do { print errname(), "\n"; exit 0 };
my $n;
if (defined $offset) {
    my $sysno = pwrite_sysno();
    $n = syscall($sysno, fileno($fh), $bytes, length($bytes), $offset + 0);
    $n = undef if $n < 0;
} else {
    $n = syswrite($fh, $bytes);
}
if (!defined $n) {
    print errname(), "\n";
} elsif ($n != length($bytes)) {
    print "SHORT $n/", length($bytes), "\n";
} else {
    print "OK\n";
}
close($fh);
