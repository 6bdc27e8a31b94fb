# Which documented divergence explains a scenario's difference. run.py --update uses these rules
# to fill in "delta" and "why" of a new entry in expected-divergences.json; the entry's lines
# always come from the run. Ids: Δ1–Δ26 are the ids of docs/divergences.md; C1… are the cases
# docs/divergences.md adds ("Found by the differential suite"); B1… are fdplug bugs that have been
# reported and are listed only until they are fixed (then the entry turns stale and fails).
import re

# (scenario-name regex, ids, reason); the first match wins.
RULES = [
    (r"^opcode-0e$", "Δ15", "DUMPREG bytes 5-8: QEMU packs SRT only, HLT|DMA, sectors per track, lock|perpendicular"),
    (r"^opcode-(17|18|2e|33|4e|8e|cd)$", "Δ16", "82078-only opcode: QEMU implements it, an 82077AA answers invalid (0x80)"),
    (r"^dor-write-0[08]$", "Δ1,Δ6", "SRB is PS/2-style in QEMU; reading MSR while DOR holds the reset ends it in QEMU (no polling interrupt follows)"),
    (r"^(default-srb-|dor-write-)", "Δ1", "QEMU answers at +1 with a PS/2 SRB; an AT-mode 82077AA does not drive it (0xFF)"),
    (r"^(default-dor-mtwo|dor-after-cmd-drive1)$", "C11", "QEMU's DOR drive-select bits follow the drive of the last drive command; DS: DOR reads back as written"),
    (r"^(default-tdr-|tdr-write-|access-16-32bit$)", "Δ4", "TDR: QEMU keeps only its 82078 boot-select bit 2; fdplug keeps bits 1-0, bits 7-2 float"),
    (r"^(sense-drive-d[23]-|recal-absent$|seek-absent-drive$)", "C2", "QEMU 7.2 has two drive units: selects 2 and 3 reach unit 0/1"),
    (r"^seek-(83|127|255)$", "Δ5,C3", "SEEK past the last cylinder: QEMU refuses it (PCN unchanged, no step); DS: PCN = NCN, the head stops at its end stop"),
    (r"^seek-two-pending$", "Δ5,C4", "seek completions queue per drive (DS); QEMU reports only the last one"),
    (r"^(seek-\d+|seek-head1|seek-drive1|relseek-(in-0-from-0|in-5-from-0|out-10-from-10|out-3-from-10)|fdctest-relative-seek|fdctest-sense-interrupt)$",
     "Δ5", "MSR drive-busy bit while a seek's status awaits SENSE INTERRUPT"),
    (r"^relseek-(in-20-from-70|out-10-from-3)$", "Δ5,Δ13", "RELATIVE SEEK: QEMU clamps at 0 without EC and at max_track-1"),
    (r"^reset-dor-held-(fifo|msr)$", "Δ6", "reading MSR while DOR holds the reset ends the reset in QEMU"),
    (r"^(reset-keeps-pcn|dskchg-after-controller-reset)$", "Δ25", "a controller reset recalibrates every drive in QEMU (PCN 0); fdplug moves no head"),
    (r"^reset-sis-after-seek$", "Δ5,Δ25,C5", "seek status then a DOR reset: INT drops on entering reset in fdplug, at the 0->1 edge in QEMU; QEMU's reset recalibrates"),
    (r"^reset-poll-cancel-by-cmd$", "C12", "reset polls survive VERSION in both; QEMU lowers INT at VERSION's result, fdplug keeps it until SENSE INTERRUPT"),
    (r"^param-read-fm-", "Δ17", "MFM=0 (FM) on MFM media: no ID is found (MA); QEMU ignores the MFM bit"),
    (r"^param-(read|write)-deleted-", "Δ8", "READ/WRITE DELETED: QEMU fails at once (ST0 0x60); fdplug reads/writes the sector (raw media hold normal marks)"),
    (r"^param-read-track-", "Δ9", "READ TRACK reads from the index in physical order, ID fields not compared; QEMU treats it as READ DATA"),
    (r"^param-.*-(r0|r19|c-beyond|drive1-absent)$", "Δ22", "bad R / C beyond the medium / absent drive: QEMU's status bytes differ from DS (ND, ND+WC, MA)"),
    (r"^param-.*-n[0137]$", "Δ18", "N != 2 on a raw image: no ID matches (ND); QEMU scales the byte count"),
    (r"^param-.*-(eot-eq-r|eot-ff)$", "Δ20", "end of transfer: QEMU steps to the next physical sector and adds SE when it changes cylinder; DS: R+1 (or C+1, R=1 at EOT), no SE"),
    (r"^param-.*-h-mismatch$", "C1", "the command's H must match the ID's H (ND); QEMU reads the sector of head H"),
    (r"^param-.*-c-mismatch$", "Δ19", "no implied seek without CONFIGURE EIS=1 (ND + WC); QEMU always seeks"),
    (r"^param-verify-", "Δ10", "VERIFY moves no data and is not ended by TC; QEMU ends it like a read with SE on the cylinder step"),
    (r"^param-scan-", "C6", "SCAN: fdplug reports the next sector (R+STP) and takes the DMA data; QEMU stays on the hit sector and moves no DMA count"),
    (r"^wp-.*-format$", "Δ11,Δ21", "FORMAT on a protected medium: NW at once; QEMU does not format and reports success"),
    (r"^wp-.*-(dma|pio)-write$", "Δ21", "WRITE on a protected medium: IC=01 + NW before any data in both modes; QEMU DMA adds SE, QEMU PIO stays in execution"),
    (r"^(dma-read-|wp-)", "Δ20", "TC at EOT: QEMU adds SE when it steps to the next cylinder; no TC by EOT: DS ends IC=01 EN, QEMU IC=00"),
    (r"^(pio-read-|pio-write-|fdctest-read-no-dma-(1|18)$)", "Δ20", "PIO has no TC: DS ends IC=01 EN with the last sector's C/H/R; QEMU IC=00 (and its PIO write stays in execution, MSR 0x30)"),
    (r"^fdctest-read-no-dma-19$", "Δ22", "R beyond the track: QEMU ST1 EN; EOT<R gives MA (DS/Q rule)"),
    (r"^readid-wrong-rate-after-seek$", "Δ12", "READ ID at a wrong rate on C5 H1: MA at once; C/H from the head's track, R=1 where QEMU shows its sector counter"),
    (r"^readid-fm$", "Δ17", "READ ID with MFM=0 finds no ID (MA)"),
    (r"^(readid-|fdctest-read-id$)", "Δ12", "READ ID: the command's drive, MA at once on an empty or absent drive or a wrong rate; QEMU's counter starts one sector later"),
    (r"^issue-3800-format-sc-beyond$", "Δ11,Δ20", "FORMAT with SC beyond the track is refused (IC=01 EN); QEMU only stores SC"),
    (r"^format-", "Δ11", "FORMAT TRACK formats (fill byte) or refuses IDs a raw image cannot hold; QEMU does not format"),
    (r"^verify-", "Δ10", "VERIFY: no data phase, not ended by TC; QEMU adds SE at the cylinder step"),
    (r"^qmp-change-ro$", "Δ21,C7", "WRITE after a read-only change: NW (QEMU adds SE); fdplug's media events"),
    (r"^(fdctest-read-without-media|fdctest-verify)$", "Δ22", "empty drive: ST1 MA (QEMU ST1 0)"),
    (r"^qmp-eject-then-read$", "Δ22,C7", "empty drive after eject: ST1 MA (QEMU ST1 0); fdplug's media events"),
    (r"^qmp-change-into-empty-retain$", "C7,C8", "change into a drive created empty with read-only-mode retain: QEMU inserts read-only"),
    (r"^qmp-change-missing-file$", "C9", "error text: fdplug's own message names the fix; the class is the same"),
    (r"^qmp-change-during-pio-read$", "C7,C10,Δ26", "eject during a PIO read ends the command at once with IC=01 MA, its request's INT dropping before the result's rises; QEMU goes on with zeros"),
    (r"^(qmp-|fdctest-media-change$|dskchg-eject-insert-step$)", "C7", "fdplug sends FLOPPY_MEDIA_EJECTED / FLOPPY_MEDIA_INSERTED on eject and change; QEMU sends no floppy event"),
    (r"^cve-2015-3456-venom-0a$", "Δ17,C5", "READ ID with MFM=0 ends at once (MA); INT drops on entering reset"),
    (r"^cve-2015-3456-venom-46$", "Δ22,C5", "READ with R=0 ends at once (ND); INT drops on entering reset"),
    (r"^cve-2015-3456-venom-", "Δ16", "0x4E/0x8E are 82078 opcodes (invalid on an 82077AA)"),
    (r"^cve-2021-20196$", "Δ2,Δ22,C5", "DOR bit 3 = 0 selects PIO in QEMU; R=0 ends at once; INT drops on entering reset"),
    (r"^cve-2021-20196-pio-switch$", "Δ20,C5", "PIO write ends with IC=01 EN (QEMU stays in execution); INT drops on entering reset"),
    (r"^cve-2021-3507-read-", "Δ18", "N != 2: no ID matches; result N is the command's"),
]


def classify(name):
    for pattern, ids, why in RULES:
        if re.search(pattern, name):
            return ids, why
    return "?", ""
