; fdplug's Bochs media-swap test: a 1.44 MB floppy's boot sector (nasm -f bin, 512 bytes).
; It reads track C1/H0 of drive A:, waits for the disk to be changed (over QMP, by
; tests/bochs/run_swap.py), and reads the same track of the new disk. On port 0xE9:
;   SWAP boot
;   DISK <16 characters> HASH xxxxxxxx RETRIES xxxx   the track's first 16 bytes and hash
;   DIR xx                                             port 0x3F7 after the read (bit 7 clear)
;   (the motor is turned off here, as by the BIOS's timeout)
;   SWAP READY                                         the test swaps the disk now
;   SWAP CHANGED                                       DIR bit 7 (DSKCHG) went to 1
;   DISK <16 characters> HASH xxxxxxxx RETRIES xxxx   the same track of the new disk
;   DIR xx
;   SWAP DONE
; and then stops Bochs by writing "Shutdown" to port 0x8900.
; The change is seen on the controller's DIR register (port 0x3F7, bit 7), polled without a
; time limit: the test kills Bochs if it never comes. The BIOS's AH=16h cannot be used: SeaBIOS
; and Bochs' BIOS answer "changed" (or "not supported") whatever the drive says.
; After the change, a read may fail: while the drive is empty between the release and the
; attach (the core ends a command on an empty drive at once, ST0 abnormal), or with the BIOS's
; own "media changed"; it is retried after a reset (AH=00h) until it succeeds, and RETRIES
; counts the failures.
; Hash: h = 5381, then h = (h * 33) ^ byte for each of the track's 9216 bytes, 32-bit.

%include "bootsect.inc"           ; org 0x7C00; the entry: segments, stack, msg_boot; then main

READSEG    equ 0x1000

main:
        call read_track
        ; Motor off, as the BIOS's motor timeout does (DOR: DMA, not reset, drive 0; BDA 0040:003F
        ; bit 0 cleared), so that the drive's status-bar LED goes off before the change
        ; (run_gui.py checks it in fdplug's trace); the next read turns it on again.
        cli
        mov dx, 0x3F2
        mov al, 0x0C
        out dx, al
        push ds
        mov ax, 0x40
        mov ds, ax
        and byte [0x3F], 0xFE
        pop ds
        sti
        mov si, msg_ready
        call puts

        mov dx, 0x3F7                ; DIR: wait for DSKCHG
.wait:  in al, dx
        test al, 0x80
        jz .wait
        mov si, msg_changed
        call puts

        mov word [retries], 0
        call reset
        call read_track
        mov si, msg_done
        call puts

        jmp shutdown

; Reads C1/H0, sectors 1-18, of drive 0 into READSEG:0000 until it succeeds; prints the DISK
; and DIR lines.
read_track:
.again: mov ax, READSEG
        mov es, ax
        xor bx, bx
        mov ax, 0x0200 + SECTORS     ; AH=02h read, AL=18 sectors
        mov cx, 0x0101               ; CH = cylinder 1, CL = sector 1
        xor dx, dx                   ; DH = head 0, DL = drive 0
        int 0x13
        jnc .read
        inc word [retries]
        call reset
        jmp .again
.read:  mov si, msg_disk
        call puts
        xor si, si
        mov cx, 16
.mark:  es lodsb
        call putc
        loop .mark
        mov ebp, 5381
        call hash_track
        mov si, msg_hash
        call puts
        mov eax, ebp
        call hex32
        mov si, msg_retries
        call puts
        mov ax, [retries]
        call hex16
        mov si, msg_dir
        call puts
        mov dx, 0x3F7
        in al, dx
        call hex8
        jmp newline

reset:  xor ax, ax                   ; AH=00h: reset the disk system
        xor dx, dx
        int 0x13
        ret

msg_boot     db 'SWAP boot', 10, 0
msg_disk     db 'DISK ', 0
msg_hash     db ' HASH ', 0
msg_retries  db ' RETRIES ', 0
msg_dir      db 10, 'DIR ', 0
msg_ready    db 'SWAP READY', 10, 0
msg_changed  db 'SWAP CHANGED', 10, 0
msg_done     db 'SWAP DONE', 10, 0
retries      dw 0

        times 510 - ($ - $$) db 0
        dw 0xAA55
