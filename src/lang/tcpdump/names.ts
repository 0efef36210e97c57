/**
 * Name tables used by the pcap-filter front end. They are built in (from
 * Debian's netbase /etc/services and /etc/protocols and libpcap's own
 * ether-type table) so that a filter compiles the same on every host and
 * never needs a name service.
 */
import { EtherType } from '../../decode/ethernet.js';
import { IpProto } from '../../decode/ipv4.js';
import { Ipv6Ext } from '../../decode/ipv6.js';
import { LlcSap } from '../../decode/llc.js';

/** Services: name -> [tcp port or -1, udp port or -1]. */
const SERVICES_TEXT =
  'Clearcase:-1:371 acr-nema:104:-1 afpovertcp:548:-1 afs3-bos:-1:7007 afs3-callback:-1:7001 ' +
  'afs3-fileserver:-1:7000 afs3-kaserver:-1:7004 afs3-prserver:-1:7002 afs3-rmtsys:-1:7009 ' +
  'afs3-update:-1:7008 afs3-vlserver:-1:7003 afs3-volser:-1:7005 amanda:10080:-1 amandaidx:10082:-1 ' +
  'amidxtape:10083:-1 amqp:5672:-1 amqps:5671:-1 asf-rmcp:-1:623 asp:27374:27374 auth:113:-1 ' +
  'authentication:113:-1 babel:-1:6696 bacula-dir:9101:-1 bacula-fd:9102:-1 bacula-sd:9103:-1 ' +
  'bbs:7000:-1 bgp:179:-1 bgpd:2605:-1 biff:-1:512 binkp:24554:-1 bootpc:-1:68 bootps:-1:67 ' +
  'canna:5680:-1 cfengine:5308:-1 chargen:19:19 cisco-sccp:2000:-1 clc-build-daemon:8990:-1 ' +
  'clearcase:-1:371 cmd:514:-1 cmip-agent:164:164 cmip-man:163:163 codaauth2:370:370 ' +
  'codasrv:2432:2432 codasrv-se:2433:2433 comsat:-1:512 csync2:30865:-1 cvspserver:2401:-1 ' +
  'daap:3689:-1 datametrics:1645:1645 daytime:13:13 db-lsp:17500:-1 dcap:22125:-1 ' +
  'dhcpv6-client:-1:546 dhcpv6-server:-1:547 dicom:104:-1 dict:2628:-1 dircproxy:57000:-1 ' +
  'discard:9:9 distcc:3632:-1 domain:53:53 domain-s:853:853 echo:7:7 epmap:135:-1 epmd:4369:-1 ' +
  'exec:512:-1 f5-globalsite:2792:-1 f5-iquery:4353:-1 fax:4557:-1 fido:60179:-1 finger:79:-1 ' +
  'font-service:7100:-1 freeciv:5556:-1 fsp:-1:21 fspd:-1:21 ftp:21:-1 ftp-data:20:-1 ftps:990:-1 ' +
  'ftps-data:989:-1 gdomap:538:538 gds-db:3050:-1 gds_db:3050:-1 git:9418:-1 gnunet:2086:2086 ' +
  'gnutella-rtr:6347:6347 gnutella-svc:6346:6346 gopher:70:-1 gpsd:2947:-1 gris:2135:-1 ' +
  'groupwise:1677:-1 gsidcap:22128:-1 gsiftp:2811:-1 gsigatekeeper:2119:-1 hkp:11371:-1 ' +
  'hprop:754:-1 http:80:-1 http-alt:8080:-1 https:443:443 hylafax:4559:-1 iax:-1:4569 icp:-1:3130 ' +
  'icpv2:-1:3130 ident:113:-1 imap:143:-1 imap2:143:-1 imaps:993:-1 ingreslock:1524:-1 ipp:631:-1 ' +
  'iprop:2121:-1 ipsec-nat-t:-1:4500 ipx:-1:213 ircd:6667:-1 ircs-u:6697:-1 isakmp:-1:500 ' +
  'iscsi-target:3260:-1 isisd:2608:-1 isns:3205:3205 iso-tsap:102:-1 jabber-client:5222:-1 ' +
  'jabber-server:5269:-1 kamanda:10081:-1 kdc:750:750 kerberos:88:88 kerberos-adm:749:-1 ' +
  'kerberos-iv:750:750 kerberos-master:751:751 kerberos-sec:88:88 kerberos4:750:750 kerberos5:88:88 ' +
  'kerberos_master:-1:751 kermit:1649:-1 klogin:543:-1 kpasswd:464:464 krb-prop:754:-1 krb5:88:88 ' +
  'krb5_prop:754:-1 krb_prop:754:-1 krcmd:544:-1 kshell:544:-1 l2f:-1:1701 l2tp:-1:1701 ' +
  'ldap:389:389 ldaps:636:636 ldp:646:646 loc-srv:135:-1 login:513:-1 lotusnote:1352:-1 ' +
  'lotusnotes:1352:-1 lrrd:4949:-1 mail:25:-1 mailq:174:-1 mdns:-1:5353 microsoft-ds:445:-1 ' +
  'moira-db:775:-1 moira-update:777:-1 moira-ureg:-1:779 moira_db:775:-1 moira_update:777:-1 ' +
  'moira_ureg:-1:779 mon:2583:2583 ms-sql-m:-1:1434 ms-sql-s:1433:-1 ms-wbt-server:3389:-1 ' +
  'mtn:4691:-1 munin:4949:-1 mysql:3306:-1 mysql-proxy:6446:-1 nbd:10809:-1 netbios-dgm:-1:138 ' +
  'netbios-ns:-1:137 netbios-ssn:139:-1 netstat:15:-1 nfs:2049:2049 nicname:43:-1 nntp:119:-1 ' +
  'nntps:563:-1 nqs:607:-1 nrpe:5666:-1 nsca:5667:-1 ntalk:-1:518 ntp:-1:123 ntske:4460:-1 null:9:9 ' +
  'nut:3493:3493 old-radacct:1646:1646 old-radius:1645:1645 omniorb:8088:-1 openvpn:1194:1194 ' +
  'ospf6d:2606:-1 ospfapi:2607:-1 ospfd:2604:-1 passwd-server:-1:752 passwd_server:-1:752 ' +
  'pawserv:345:-1 pop-3:110:-1 pop3:110:-1 pop3s:995:-1 poppassd:106:-1 portmapper:111:111 ' +
  'postgres:5432:-1 postgresql:5432:-1 predict:-1:1210 printer:515:-1 proofd:1093:-1 ' +
  'ptp-event:-1:319 ptp-general:-1:320 puppet:8140:-1 qmqp:628:-1 qmtp:209:-1 qotd:17:-1 ' +
  'quote:17:-1 radacct:1813:1813 radius:1812:1812 radius-acct:1813:1813 radmin-port:4899:-1 ' +
  'readnews:119:-1 redis:6379:-1 remctl:4373:-1 ripd:2602:-1 ripngd:2603:-1 rmiregistry:1099:-1 ' +
  'rmtcfg:1236:-1 rootd:1094:-1 route:-1:520 routed:-1:520 router:-1:520 rpc2portmap:369:369 ' +
  'rplay:-1:5555 rptp:5556:-1 rsync:873:-1 rtcm-sc104:2101:2101 rtsp:554:554 sa-msg-port:1646:1646 ' +
  'saft:487:-1 sane:6566:-1 sane-port:6566:-1 saned:6566:-1 sge-execd:6445:-1 sge-qmaster:6444:-1 ' +
  'sge_execd:6445:-1 sge_qmaster:6444:-1 sgi-cad:17004:-1 sgi-cmsd:-1:17001 sgi-crsd:-1:17002 ' +
  'sgi-gcd:-1:17003 shell:514:-1 sieve:4190:-1 silc:706:-1 sink:9:9 sip:5060:5060 sip-tls:5061:5061 ' +
  'skkserv:1178:-1 smtp:25:-1 smtps:465:-1 smux:199:-1 snmp:161:161 snmp-trap:162:162 ' +
  'snmptrap:162:162 snntp:563:-1 snpp:444:-1 socks:1080:-1 source:19:19 spamd:783:-1 spooler:515:-1 ' +
  'ssh:22:-1 ssmtp:465:-1 submission:587:-1 submissions:465:-1 subversion:3690:-1 sunrpc:111:111 ' +
  'supfiledbg:1127:-1 supfilesrv:871:-1 suucp:4031:-1 svn:3690:-1 svrloc:427:427 syslog:514:514 ' +
  'syslog-tls:6514:-1 sysrqd:4094:-1 systat:11:-1 tacacs:49:49 talk:-1:517 tap:113:-1 tcpmux:1:-1 ' +
  'telnet:23:-1 telnets:992:-1 tfido:60177:-1 tftp:-1:69 time:37:37 timserver:37:37 tinc:655:655 ' +
  'tproxy:8081:-1 tsap:102:-1 ttytst:19:19 untp:119:-1 urd:465:-1 users:11:-1 uucp:540:-1 ' +
  'uucpd:540:-1 venus:2430:2430 venus-se:2431:2431 wais:210:-1 webcache:8080:-1 webmin:10000:-1 ' +
  'who:-1:513 whod:-1:513 whois:43:-1 wnn6:22273:-1 www:80:-1 x11:6000:-1 x11-0:6000:-1 ' +
  'x11-1:6001:-1 x11-2:6002:-1 x11-3:6003:-1 x11-4:6004:-1 x11-5:6005:-1 x11-6:6006:-1 ' +
  'x11-7:6007:-1 xdmcp:-1:177 xfs:7100:-1 xinetd:9098:-1 xmms2:9667:-1 xmpp-client:5222:-1 ' +
  'xmpp-server:5269:-1 xtel:1313:-1 xtelw:1314:-1 z3950:210:-1 zabbix-agent:10050:-1 ' +
  'zabbix-trapper:10051:-1 zebra:2601:-1 zebrasrv:2600:-1 zephyr-clt:-1:2103 zephyr-hm:-1:2104 ' +
  'zephyr-srv:-1:2102 zope:9673:-1 zope-ftp:8021:-1 zserv:346:-1 ' +
  '';

/** IP protocol numbers by name (getprotobyname). */
const PROTOCOLS_TEXT =
  'ip:0 IP:0 hopopt:0 HOPOPT:0 icmp:1 ICMP:1 igmp:2 IGMP:2 ggp:3 GGP:3 ipencap:4 IP-ENCAP:4 st:5 ' +
  'ST:5 tcp:6 TCP:6 egp:8 EGP:8 igp:9 IGP:9 pup:12 PUP:12 udp:17 UDP:17 hmp:20 HMP:20 xns-idp:22 ' +
  'XNS-IDP:22 rdp:27 RDP:27 iso-tp4:29 ISO-TP4:29 dccp:33 DCCP:33 xtp:36 XTP:36 ddp:37 DDP:37 ' +
  'idpr-cmtp:38 IDPR-CMTP:38 ipv6:41 IPv6:41 ipv6-route:43 IPv6-Route:43 ipv6-frag:44 IPv6-Frag:44 ' +
  'idrp:45 IDRP:45 rsvp:46 RSVP:46 gre:47 GRE:47 esp:50 IPSEC-ESP:50 ah:51 IPSEC-AH:51 skip:57 ' +
  'SKIP:57 ipv6-icmp:58 IPv6-ICMP:58 ipv6-nonxt:59 IPv6-NoNxt:59 ipv6-opts:60 IPv6-Opts:60 rspf:73 ' +
  'RSPF:73 CPHB:73 vmtp:81 VMTP:81 eigrp:88 EIGRP:88 ospf:89 OSPFIGP:89 ax.25:93 AX.25:93 ipip:94 ' +
  'IPIP:94 etherip:97 ETHERIP:97 encap:98 ENCAP:98 pim:103 PIM:103 ipcomp:108 IPCOMP:108 vrrp:112 ' +
  'VRRP:112 l2tp:115 L2TP:115 isis:124 ISIS:124 sctp:132 SCTP:132 fc:133 FC:133 mobility-header:135 ' +
  'Mobility-Header:135 udplite:136 UDPLite:136 mpls-in-ip:137 MPLS-in-IP:137 manet:138 hip:139 ' +
  'HIP:139 shim6:140 Shim6:140 wesp:141 WESP:141 rohc:142 ROHC:142 ethernet:143 Ethernet:143 ' +
  'mptcp:262 MPTCP:262 ' +
  '';

const services = new Map<string, [number, number]>();
for (const e of SERVICES_TEXT.trim().split(' ')) {
  const [n, t, u] = e.split(':');
  services.set(n, [Number(t), Number(u)]);
}
const protocols = new Map<string, number>();
for (const e of PROTOCOLS_TEXT.trim().split(' ')) {
  const i = e.lastIndexOf(':');
  protocols.set(e.slice(0, i), Number(e.slice(i + 1)));
}

/** IPPROTO_* numbers used by the code generator. */
export const IPPROTO = {
  HOPOPTS: Ipv6Ext.HopByHop, ICMP: IpProto.ICMP, IGMP: IpProto.IGMP, TCP: IpProto.TCP, IGRP: 9, UDP: IpProto.UDP, ROUTING: Ipv6Ext.Routing,
  FRAGMENT: Ipv6Ext.Fragment, ESP: Ipv6Ext.ESP, AH: Ipv6Ext.AH, ICMPV6: IpProto.ICMPv6, NONE: Ipv6Ext.NoNext, DSTOPTS: Ipv6Ext.DestOpts, PIM: 103,
  VRRP: 112, SCTP: IpProto.SCTP,
} as const;

/** Ethernet types used by the code generator (the DEC protocols other than DECnet are only names here). */
export const ETHERTYPE = {
  IP: EtherType.IPv4, ARP: EtherType.ARP, REVARP: EtherType.RARP, IPV6: EtherType.IPv6, VLAN: EtherType.VLAN, QINQ_AD: EtherType.QinQ,
  QINQ_OLD: EtherType.QinQ9100, MPLS: EtherType.MPLS, PPPOED: EtherType.PPPoEDiscovery, PPPOES: EtherType.PPPoESession,
  ATALK: EtherType.AppleTalk, AARP: EtherType.AARP, DN: EtherType.DECnet, SCA: 0x6007, LAT: 0x6004, MOPDL: 0x6001, MOPRC: 0x6002,
  IPX: EtherType.IPX,
  /** Transparent Ethernet Bridging: a whole Ethernet frame follows (Geneve, GRE). */
  TEB: EtherType.TEB,
} as const;

/** 802.2 LLC SAP values. */
export const LLCSAP = { IP: LlcSap.IP, ISONS: LlcSap.ISONS, NETBEUI: LlcSap.NetBEUI, IPX: LlcSap.IPX, STP: LlcSap.STP, SNAP: LlcSap.SNAP } as const;

const ETHER_PROTOS: Record<string, number> = {
  aarp: 0x80f3, arp: 0x0806, atalk: 0x809b, decnet: 0x6003, ip: 0x0800, ip6: 0x86dd, lat: 0x6004,
  loopback: 0x9000, mopdl: 0x6001, moprc: 0x6002, rarp: 0x8035, sca: 0x6007,
};
const LLC_PROTOS: Record<string, number> = { iso: LlcSap.ISONS, stp: LlcSap.STP, ipx: LlcSap.IPX, netbeui: LlcSap.NetBEUI };

/** IP protocol number for a name, or -1. */
export function ipProtoByName(name: string): number {
  return protocols.get(name) ?? -1;
}

/** Ethernet type (or LLC SAP) for an `ether proto` name, or -1. */
export function etherProtoByName(name: string): number {
  if (name in ETHER_PROTOS) return ETHER_PROTOS[name];
  if (name in LLC_PROTOS) return LLC_PROTOS[name];
  return -1;
}

/** Port lookup result: the port and the transport it is defined for ('any' when both agree). */
export interface PortName {
  port: number;
  proto: 'tcp' | 'udp' | 'any';
}

/**
 * Resolve a service name the way libpcap's pcap_nametoport does: a name
 * defined for TCP only means TCP, for UDP only means UDP, for both with the
 * same number means either.
 */
export function portByName(name: string): PortName | null {
  const e = services.get(name);
  if (!e) return null;
  const [t, u] = e;
  if (t >= 0) return { port: t, proto: u === t ? 'any' : 'tcp' };
  if (u >= 0) return { port: u, proto: 'udp' };
  return null;
}
