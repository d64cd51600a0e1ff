#!/usr/bin/env bash
# Removes kernel module trees a virtio-only test VM never loads (GPU, sound, wireless, physical NICs, ...)
# from the rootfs given as $1, then rebuilds modules.dep. Keeps net/ (sctp, ip_vs, netfilter), crypto/, lib/,
# fs/, drivers/{virtio,block,net/virtio_net,net_failover,char}. Saves roughly 300 MB of the ~390 MB.
# The initrd was generated before this runs and keeps its own copy of virtio/ext4.
set -euo pipefail
root=${1:?usage: prune-modules.sh ROOTFS}
for kdir in "$root"/usr/lib/modules/*/; do
  k="$kdir/kernel"
  rm -rf "$k"/sound "$k"/drivers/{gpu,media,infiniband,staging,scsi,usb,hid,input,iio,isdn,bluetooth,mmc,mtd,hwmon,leds,platform,power,thunderbolt,video,watchdog,ata,md,nvme,target,edac,misc,spi,i2c,gnss,firewire,pcmcia,comedi,w1,mfd,regulator,rtc,acpi,pinctrl,gpio,crypto,dma,fpga,soundwire,vfio,vhost,xen,hyperv,ntb,parport,tty,uio,firmware,pci,ptp,pps,ssb,bcma,atm,nfc,memstick,auxdisplay,char/ipmi,char/tpm}
  rm -rf "$k"/drivers/net/{wireless,ethernet,usb,can,wwan,ieee802154,hamradio,arcnet,fddi,plip,ppp,slip,wan,phy,pcs,mdio,ipa,fjes.ko,hyperv,xen-netback,vmxnet3,thunderbolt}
  rm -rf "$k"/net/{bluetooth,wireless,mac80211,mac802154,ieee802154,nfc,6lowpan,can,rxrpc,ceph,sunrpc,9p,rds,tipc,atm,x25,lapb,phonet,appletalk,batman-adv,caif,smc,mptcp}
  rm -rf "$k"/fs/{nfs,nfsd,cifs,smbfs,ceph,ocfs2,gfs2,btrfs,xfs,f2fs,jfs,ubifs,nilfs2,reiserfs,ntfs,ntfs3,hfs,hfsplus,udf,isofs,orangefs,afs,coda,dlm,ksmbd,erofs,squashfs,9p,fuse}
  rm -rf "$k"/arch/x86/kvm "$k"/virt
  chroot "$root" depmod "$(basename "$kdir")"
done
