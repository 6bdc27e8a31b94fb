; fdplug's Bochs mark probe: a boot sector (nasm -f bin, 512 bytes) that reads sectors of C2/H1
; through the 82077AA's own ports, in PIO (SPECIFY ND = 1), after the BIOS has booted it. INT 13h
; cannot do this: SeaBIOS refuses R above the sectors per track and reads with SK = 1, so a
; deleted sector never reaches the caller. It prints on Bochs' port 0xE9:
;   FDMARK
;   SEEK ss pp                                   SENSE INTERRUPT after a SEEK: ST0, PCN
;   MARK oo rr s0 s1 s2 c h r n bbbb ssss        one per probe: opcode, R asked for, the seven
;                                                result bytes, bytes moved, their 16-bit sum
;   FMT s0 s1 s2 c h r n                         FORMAT of C3/H1 as 5 x 1024 bytes
;   END
; and stops Bochs. The probes (run_marks.py holds what each must give, docs/hardware/82077aa.md
; §6.1, §6.4-§6.6): on C2/H1 READ DATA of R=9, READ DATA of R=19, READ DELETED DATA of R=19,
; READ DATA of R=20; then FORMAT of C3/H1 with five 1024-byte sectors, interleaved (a layout
; Linux's FDFMTTRK can ask for and a raw image cannot hold), and READ DATA of its R=3 with N = 3.
; Each read has MT = 0, SK = 0, EOT = R. Interrupts stay off: the BIOS' IRQ 6 and motor-off timer
; keep out of the controller's way, and the code polls MSR instead. The data rate is the one the
; BIOS left after reading this sector from the 1.44 MB disk: 500 kbit/s.

%include "bootsect.inc"           ; org 0x7C00; the entry: segments, stack, msg_boot; then main

DOR        equ 0x3F2
MSR        equ 0x3F4              ; FIFO = MSR + 1
PROBE_C    equ 2
PROBE_H    equ 1
FORMAT_C   equ 3

main:
        cli
        mov dx, DOR
        mov al, 0x1C                 ; drive 0 selected, its motor on, DMA gate, not in reset
        out dx, al
        mov si, cmd_specify
        call send_list
        mov al, PROBE_C
        call seek

        mov bp, probes
.probe: cmp bp, format_at
        jne .read
        mov al, FORMAT_C             ; FORMAT between the mark probes and the read of its track
        call seek
        mov si, msg_format
        call puts
        mov si, cmd_format
        call send_list
        mov si, format_ids
.ids:   call wait_rqm
        test al, 0x20                ; NON-DMA: the controller wants the next ID byte
        jz .fdone
        lodsb
        call send
        jmp .ids
.fdone: call result
        call newline
.read:  mov si, msg_mark
        call puts
        mov al, [bp]                 ; opcode
        mov [cmd_read], al
        call hex8
        mov ax, [bp + 1]             ; C, then R (also EOT)
        mov [cmd_read + 2], al
        mov [cmd_read + 4], ah
        mov [cmd_read + 6], ah
        mov al, ah
        call space_hex8
        mov al, [bp + 3]             ; N
        mov [cmd_read + 5], al
        mov si, cmd_read_list
        call send_list
        xor bx, bx                   ; bytes moved
        xor di, di                   ; their sum
        xor ah, ah                   ; AX = each byte (wait_rqm and IN change only AL)
.exec:  call wait_rqm
        test al, 0x20                ; NON-DMA: still the execution phase
        jz .result
        inc dx
        in al, dx
        inc bx
        add di, ax
        jmp .exec
.result:
        call result
        mov ax, bx
        call space_hex16
        mov ax, di
        call space_hex16
        call newline
        add bp, 4
        cmp bp, probes_end
        jb .probe

        mov si, msg_done
        call puts
        jmp shutdown

; SEEK drive 0 to cylinder AL, then SENSE INTERRUPT until its status is there; prints SEEK with
; ST0 and PCN.
seek:   mov [cmd_seek + 3], al
        mov si, cmd_seek
        call send_list
        mov si, msg_seek
        call puts
.sense: mov al, 0x08
        call send
        call recv
        cmp al, 0x80                 ; invalid: nothing pending yet (one result byte)
        je .sense
        call hex8
        call recv
        call space_hex8
        jmp newline

; The seven result bytes, each printed after a space.
result: mov cx, 7
.res:   call recv
        call space_hex8
        loop .res
        ret

; MSR in AL once RQM is set; DX = MSR.
wait_rqm:
        mov dx, MSR
.w:     in al, dx
        test al, 0x80
        jz .w
        ret

; AL to the FIFO once the controller wants a byte (RQM, DIO = 0). Keeps AX.
send:   push ax
.w:     call wait_rqm
        test al, 0x40
        jnz .w
        inc dx
        pop ax
        out dx, al
        ret

; A byte from the FIFO in AL once the controller offers one (RQM, DIO = 1).
recv:   call wait_rqm
        test al, 0x40
        jz recv
        inc dx
        in al, dx
        ret

; The bytes at SI, preceded by their count.
send_list:
        lodsb
        movzx cx, al
.l:     lodsb
        call send
        loop .l
        ret

space_hex8:
        push ax
        mov al, ' '
        call putc
        pop ax
        jmp hex8

space_hex16:
        push ax
        mov al, ' '
        call putc
        pop ax
        jmp hex16

msg_boot     db 'FDMARK', 10, 0
msg_seek     db 'SEEK ', 0
msg_mark     db 'MARK ', 0
msg_format   db 'FMT', 0
msg_done     db 'END', 10, 0
cmd_specify  db 3, 0x03, 0xDF, 0x03               ; SRT 3 ms, HUT 240 ms, HLT 2 ms, ND = 1
cmd_seek     db 3, 0x0F, PROBE_H << 2, 0          ; SEEK drive 0, head 1, to cylinder (seek)
cmd_format   db 6, 0x4D, PROBE_H << 2, 3, 5, 0x74, 0xF6  ; MFM FORMAT: N 3, SC 5, gap 3, fill
format_ids   db FORMAT_C, PROBE_H, 1, 3, FORMAT_C, PROBE_H, 4, 3, FORMAT_C, PROBE_H, 2, 3
             db FORMAT_C, PROBE_H, 5, 3, FORMAT_C, PROBE_H, 3, 3   ; interleave 2: 1 4 2 5 3
cmd_read_list db 9
cmd_read     db 0, PROBE_H << 2, 0, PROBE_H, 0, 0, 0, 0x1B, 0xFF
; opcode (MFM READ DATA 46, READ DELETED DATA 4C), C, R, N
probes       db 0x46, PROBE_C, 9, 2, 0x46, PROBE_C, 19, 2, 0x4C, PROBE_C, 19, 2, 0x46, PROBE_C, 20, 2
format_at    db 0x46, FORMAT_C, 3, 3
probes_end:

        times 510 - ($ - $$) db 0
        dw 0xAA55
