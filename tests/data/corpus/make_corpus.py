#!/usr/bin/env python3
"""Writes trainyard's reader corpus: small valid and broken IDX, NPY, NPZ and CSV files.

    python3 tests/data/corpus/make_corpus.py

Each format gets two folders next to this script:

    <format>/good/  files every reader must accept (also the fuzzers' seeds)
    <format>/bad/   corrupt, truncated or hostile files every reader must refuse with a
                    DataError or IOError that names the file (corpus_test.cpp checks both)

The output is deterministic (no timestamps), so rerunning it changes nothing in git. Files
that the fuzzers found are added to bad/ by hand with a "fuzz-" prefix and are left alone
here. Only the Python standard library is used.
"""

import gzip
import io
import os
import struct
import warnings
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
FORMATS = ("idx", "npy", "npz", "csv")


def gz(data):
    """One gzip member, with mtime 0 so the bytes never change."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as stream:
        stream.write(data)
    return out.getvalue()


# ---------------------------------------------------------------------------------------
# IDX: 00 00 <type> <rank>, big-endian int32 dims, big-endian elements.

IDX_TYPES = {"u1": (0x08, ">B"), "i1": (0x09, ">b"), "i2": (0x0B, ">h"), "i4": (0x0C, ">i"),
             "f4": (0x0D, ">f"), "f8": (0x0E, ">d")}


def idx_header(code, dims):
    return bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">i", d) for d in dims)


def idx(kind, dims, values):
    code, fmt = IDX_TYPES[kind]
    return idx_header(code, dims) + b"".join(struct.pack(fmt, v) for v in values)


def idx_files():
    images = idx("u1", [2, 3, 3], list(range(18)))
    good = {
        "images_u1.idx": images,
        "labels_u1.idx": idx("u1", [4], [0, 9, 3, 7]),
        "signed_i1.idx": idx("i1", [3], [-128, 0, 127]),
        "signed_i2.idx": idx("i2", [2, 2], [-32768, -1, 1, 32767]),
        "int_i4.idx": idx("i4", [3], [-7, 0, 65536]),
        "float_f4.idx": idx("f4", [2, 2], [1.5, -2.0, 0.25, 3.0]),
        "double_f8.idx": idx("f8", [2], [0.1, -1e300]),
        "empty_zero_dim.idx": idx("u1", [0, 28, 28], []),
        "images_u1.idx.gz": gz(images),
        "two_gzip_members.idx.gz": gz(images[:10]) + gz(images[10:]),
    }
    bad = {
        "empty.idx": b"",
        "short_magic.idx": b"\x00\x00\x08",
        "wrong_magic.idx": b"\x1f\x00\x08\x01" + struct.pack(">i", 1) + b"\x00",
        "png_magic.idx": b"\x89PNG\r\n\x1a\n" + b"\x00" * 16,
        "unknown_type.idx": idx_header(0x0A, [2]) + b"\x00\x00",
        "rank_zero.idx": bytes([0, 0, 0x08, 0]),
        "rank_nine.idx": idx_header(0x08, [1] * 9) + b"\x00",
        "rank_255.idx": bytes([0, 0, 0x08, 255]) + b"\x00\x00\x00\x01" * 4,
        "truncated_dims.idx": idx_header(0x08, [2, 3, 3])[:9],
        "negative_dim.idx": idx_header(0x08, [-1]) + b"\x00",
        "lying_size_huge.idx": idx_header(0x0E, [1 << 30, 2]) + b"\x00" * 8,
        "absurd_size.idx": idx_header(0x08, [65536, 65536, 1]) + b"\x00" * 4,
        "overflow_int64.idx": idx_header(0x0E, [0x7FFFFFFF] * 8),
        "overflow_behind_zero_dim.idx": idx_header(0x08, [0, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF]),
        "truncated_data.idx": images[:-1],
        "truncated_int16.idx": idx("i2", [2, 2], [1, 2, 3, 4])[:-1],
        "trailing_data.idx": images + b"\x00",
        "gzip_truncated.idx.gz": gz(images)[:-9],
        "gzip_bad_crc.idx.gz": corrupt_crc(gz(images)),
        "gzip_trailing_garbage.idx.gz": gz(images) + b"garbage",
        "gzip_bad_deflate.idx.gz": gz(images)[:10] + b"\xff" * 20,
        "gzip_magic_only.idx.gz": b"\x1f\x8b",
        "gzip_lying_size.idx.gz": gz(idx_header(0x08, [1 << 26]) + b"\x00" * 16),
    }
    return good, bad


def corrupt_crc(member):
    """Flips the CRC-32 in a gzip member's trailer."""
    data = bytearray(member)
    data[-8] ^= 0xFF
    return bytes(data)


# ---------------------------------------------------------------------------------------
# NPY: \x93NUMPY, version, header length, a Python dict literal padded to 64 bytes.

def npy_dict(descr, shape, fortran=False):
    if len(shape) == 1:
        shape_text = "(%d,)" % shape[0]
    else:
        shape_text = "(" + ", ".join(str(d) for d in shape) + ")"
    return "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", shape_text)


def npy_raw(dict_text, version=1, length=None):
    """A header around `dict_text`, padded as numpy pads it; `length` may lie."""
    text = dict_text.encode("latin-1") if isinstance(dict_text, str) else dict_text
    prefix_bytes = 10 if version == 1 else 12
    text += b" " * ((64 - (prefix_bytes + len(text) + 1) % 64) % 64) + b"\n"
    declared = len(text) if length is None else length
    if version == 1:
        size = struct.pack("<H", declared)
    else:
        size = struct.pack("<I", declared)
    return b"\x93NUMPY" + bytes([version, 0]) + size + text


def npy(descr, shape, data, version=1, fortran=False):
    return npy_raw(npy_dict(descr, shape, fortran), version) + data


def f4(*values):
    return struct.pack("<%df" % len(values), *values)


def npy_files():
    matrix = npy("<f4", [2, 3], f4(1.5, -2, 0.25, 3, 4, 5))
    good = {
        "float32_2x3.npy": matrix,
        "float64_scalar_v3.npy": npy("<f8", [], struct.pack("<d", 0.1), version=3),
        "int64_v2.npy": npy("<i8", [2], struct.pack("<2q", -1, 1 << 40), version=2),
        "int32.npy": npy("<i4", [2, 1], struct.pack("<2i", -7, 65536)),
        "uint8.npy": npy("|u1", [3], b"\x00\x07\xff"),
        "bool.npy": npy("|b1", [3], b"\x01\x00\x01"),
        "empty_0x3.npy": npy("<f4", [0, 3], b""),
        "python2_long_dims.npy": npy_raw("{'descr': '<f4', 'fortran_order': False, "
                                         "'shape': (2L, 1L), }") + f4(1, 2),
        "double_quoted_keys.npy": npy_raw('{"descr": "<f4", "fortran_order": False, '
                                          '"shape": (1,)}') + f4(1),
        "float32_2x3.npy.gz": gz(matrix),
    }
    bad = {
        "empty.npy": b"",
        "short_magic.npy": b"\x93NUM",
        "wrong_magic.npy": b"\x93NUMPZ" + matrix[6:],
        "zip_magic.npy": b"PK\x03\x04" + matrix[4:],
        "version_4.npy": b"\x93NUMPY\x04\x00" + matrix[8:],
        "version_1_1.npy": b"\x93NUMPY\x01\x01" + matrix[8:],
        "truncated_length_v2.npy": b"\x93NUMPY\x02\x00\x76\x00",
        "header_length_beyond_file.npy": npy_raw(npy_dict("<f4", [1]), length=0xFFFF) + f4(1),
        "header_length_huge_v2.npy": npy_raw(npy_dict("<f4", [1]), version=2,
                                             length=0xFFFFFFFF) + f4(1),
        "header_length_short.npy": npy_raw(npy_dict("<f4", [1]), length=20) + f4(1),
        "truncated_dict.npy": matrix[:40],
        "truncated_data.npy": matrix[:-1],
        "trailing_data.npy": matrix + b"\x00",
        "lying_shape_huge.npy": npy("<f8", [1 << 40], b"\x00" * 8),
        "shape_overflow_int64.npy": npy("<f4", [1 << 40, 1 << 40], b""),
        "shape_overflow_behind_zero.npy": npy("<f4", [0, 1 << 40, 1 << 40], b""),
        "dim_digits_overflow.npy": npy_raw("{'descr': '<f4', 'fortran_order': False, "
                                           "'shape': (99999999999999999999999999,), }"),
        "negative_dim.npy": npy_raw("{'descr': '<f4', 'fortran_order': False, "
                                    "'shape': (-1,), }"),
        "float_dim.npy": npy_raw("{'descr': '<f4', 'fortran_order': False, "
                                 "'shape': (2.5,), }"),
        "rank_33.npy": npy("|u1", [1] * 33, b"\x00"),
        "descr_float16.npy": npy("<f2", [1], b"\x00\x00"),
        "descr_big_endian.npy": npy(">f4", [1], b"\x00" * 4),
        "descr_object.npy": npy("|O", [1], b"\x00" * 8),
        "descr_unicode.npy": npy("<U3", [1], b"\x00" * 12),
        "descr_name.npy": npy("float32", [1], b"\x00" * 4),
        "descr_empty.npy": npy("", [1], b"\x00"),
        "descr_structured.npy": npy_raw("{'descr': [('a', '<f4')], 'fortran_order': False, "
                                        "'shape': (1,), }") + f4(1),
        "fortran_order.npy": npy("<i4", [2, 3], b"\x00" * 24, fortran=True),
        "fortran_order_not_bool.npy": npy_raw("{'descr': '<f4', 'fortran_order': 0, "
                                              "'shape': (1,), }") + f4(1),
        "missing_shape.npy": npy_raw("{'descr': '<f4', 'fortran_order': False, }") + f4(1),
        "duplicate_key.npy": npy_raw("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, "
                                     "'shape': (1,), }") + f4(1),
        "unexpected_key.npy": npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), "
                                      "'extra': 1, }") + f4(1),
        "unterminated_string.npy": npy_raw("{'descr: <f4, fortran_order: False, shape: (1,)}"),
        "not_a_dict.npy": npy_raw("['<f4', False, (1,)]") + f4(1),
        "text_after_dict.npy": npy_raw(npy_dict("<f4", [1]) + " x") + f4(1),
        "unclosed_dict.npy": npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)"),
        "unclosed_shape.npy": npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1, }"),
        "nul_in_dict.npy": npy_raw(b"{'descr': '<f4\x00', 'fortran_order': False, "
                                   b"'shape': (1,), }") + f4(1),
        "gzip_truncated.npy.gz": gz(matrix)[:-4],
        "gzip_bad_crc.npy.gz": corrupt_crc(gz(matrix)),
        "gzip_trailing_garbage.npy.gz": gz(matrix) + b"\x00",
        "gzip_lying_shape.npy.gz": gz(npy("<f8", [1 << 23], b"\x00" * 8)),
    }
    return good, bad


# ---------------------------------------------------------------------------------------
# NPZ: zip archives of .npy members, written with zipfile and patched where a size must lie.

FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def zip_bytes(members, compression=zipfile.ZIP_STORED, force_zip64=False):
    """members: (name, data) pairs or (ZipInfo, data) pairs, in order. force_zip64 writes
    the zip64 extra fields numpy.savez writes."""
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as archive:
        warnings.simplefilter("ignore")  # the duplicate-name case is on purpose
        for name, data in members:
            info = name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name, FIXED_TIME)
            info.date_time = FIXED_TIME
            if not isinstance(name, zipfile.ZipInfo):
                info.compress_type = compression
                info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=force_zip64) as member:
                member.write(data)
    return out.getvalue()


def patch_sizes(archive, uncompressed=None, compressed=None):
    """Rewrites the size fields of every local and central header (the lying-size cases)."""
    data = bytearray(archive)
    for signature, compressed_at, uncompressed_at in ((b"PK\x03\x04", 18, 22),
                                                      (b"PK\x01\x02", 20, 24)):
        start = 0
        while True:
            at = data.find(signature, start)
            if at < 0:
                break
            if compressed is not None:
                data[at + compressed_at:at + compressed_at + 4] = struct.pack("<I", compressed)
            if uncompressed is not None:
                data[at + uncompressed_at:at + uncompressed_at + 4] = struct.pack("<I",
                                                                                 uncompressed)
            start = at + 4
    return bytes(data)


def zip_info(name, mode):
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.external_attr = mode << 16
    info.create_system = 3  # Unix, so the mode bits count
    return info


def npz_files():
    x = npy("<i4", [2, 2], struct.pack("<4i", 1, 2, 3, 4))
    y = npy("<f8", [1], struct.pack("<d", 0.5))
    good = {
        "stored.npz": zip_bytes([("x.npy", x), ("y.npy", y)]),
        "deflated.npz": zip_bytes([("x.npy", x), ("y.npy", y)], zipfile.ZIP_DEFLATED),
        "nested_names.npz": zip_bytes([("layer/w.npy", x), ("layer/b.npy", y)]),
        "zip64_like_numpy.npz": zip_bytes([("x.npy", x), ("y.npy", y)], zipfile.ZIP_DEFLATED,
                                          force_zip64=True),
    }
    # A member whose .npy header declares 16 bytes over 16 MiB of zeros: deflate squeezes it
    # to a few KiB. With honest zip sizes the directory gives it away; with sizes patched
    # to match the header the reader must stop counting after its trailing-data limit.
    bomb_npy = npy("<f4", [4], b"\x00" * (16 << 20))
    bomb = zip_bytes([("bomb.npy", bomb_npy)], zipfile.ZIP_DEFLATED)
    honest_bomb_header = len(npy_raw(npy_dict("<f4", [4])))
    short_member = zip_bytes([("x.npy", x[:-4])])
    bad = {
        "empty.npz": b"",
        "empty_archive.npz": zip_bytes([]),  # numpy.savez() with no arrays
        "not_a_zip.npz": b"this is not a zip archive\n" * 4,
        "npy_not_zip.npz": x,
        "truncated_archive.npz": good["stored.npz"][:100],
        "truncated_central_directory.npz": good["stored.npz"][:-10],
        "member_not_npy.npz": zip_bytes([("x.txt", b"hello")]),
        "member_bad_npy.npz": zip_bytes([("x.npy", b"\x93NUMPZ" + x[6:])]),
        "member_named_dot_npy.npz": zip_bytes([(".npy", x)]),
        "path_traversal.npz": zip_bytes([("../../evil.npy", x)]),
        "path_traversal_inner.npz": zip_bytes([("a/../../evil.npy", x)]),
        "absolute_path.npz": zip_bytes([("/etc/evil.npy", x)]),
        "backslash_path.npz": zip_bytes([("..\\evil.npy", x)]),
        "drive_letter.npz": zip_bytes([("C:evil.npy", x)]),
        "empty_component.npz": zip_bytes([("a//x.npy", x)]),
        "dot_component.npz": zip_bytes([("./x.npy", x)]),
        "duplicate_name.npz": zip_bytes([("x.npy", x), ("x.npy", y)]),
        "directory_member.npz": zip_bytes([(zip_info("x.npy/", 0o40755), b"")]),
        "symlink_member.npz": zip_bytes([(zip_info("x.npy", 0o120777), b"/etc/passwd")]),
        "encrypted_flag.npz": set_flag_bits(good["stored.npz"], 0x1),
        "bad_crc.npz": corrupt_member_crc(good["stored.npz"]),
        "corrupt_deflate.npz": corrupt_deflate(good["deflated.npz"]),
        "zip_bomb.npz": bomb,
        "zip_bomb_lying_sizes.npz": patch_sizes(bomb, uncompressed=honest_bomb_header + 16),
        "lying_member_size.npz": patch_sizes(short_member, uncompressed=len(x),
                                             compressed=len(x)),
        "lying_compressed_size.npz": patch_sizes(good["stored.npz"], compressed=0x7FFFFFFF),
        "member_over_byte_limit.npz": zip_bytes([("x.npy", npy("<f8", [1 << 32], b""))]),
        "member_shape_overflow.npz": zip_bytes([("x.npy", npy("<f4", [1 << 40, 1 << 40], b""))]),
        "member_trailing_data.npz": zip_bytes([("x.npy", x + b"\x00")]),
    }
    return good, bad


def set_flag_bits(archive, bits):
    data = bytearray(archive)
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := data.find(signature, start)) >= 0:
            flags = struct.unpack_from("<H", data, at + flags_at)[0] | bits
            struct.pack_into("<H", data, at + flags_at, flags)
            start = at + 4
    return bytes(data)


def corrupt_member_crc(archive):
    data = bytearray(archive)
    for signature, crc_at in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):
        at = data.find(signature)
        data[at + crc_at] ^= 0xFF
    return bytes(data)


def corrupt_deflate(archive):
    """Overwrites the middle of the first member's deflate stream."""
    data = bytearray(archive)
    name_length, extra_length = struct.unpack_from("<HH", data, 26)
    start = 30 + name_length + extra_length
    for i in range(start + 2, start + 12):
        data[i] = 0xFF
    return bytes(data)


# ---------------------------------------------------------------------------------------
# CSV: a header row, numeric fields and a label column, as trainyard's CSV channels hold.

def csv_files():
    table = b"x0,x1,label\n0.5,1,0\n-2.25,3e2,1\n"
    good = {
        "with_header.csv": table,
        "quoted_fields.csv": b'"x0","x,1",label\n"1.5"," 2 ",0\n',
        "crlf_and_blank_lines.csv": b"a,b\r\n\r\n1,2\r\n\n3,4\r\n",
        "special_numbers.csv": b"a,b,c\nnan,inf,-inf\n+1,1e-3,-0\n",
        "header_only.csv": b"x0,x1,label\n",
        "with_header.csv.gz": gz(table),
    }
    bad = {
        "empty.csv": b"",
        "only_blank_lines.csv": b"\n\r\n  \n",
        "ragged_short_row.csv": table + b"1,2\n",
        "ragged_long_row.csv": table + b"1,2,3,4\n",
        "not_a_number.csv": table + b"1,abc,0\n",
        "hex_number.csv": table + b"1,0x10,0\n",
        "empty_field.csv": table + b"1,,0\n",
        "out_of_float_range.csv": table + b"1,1e99,0\n",
        "huge_field.csv": table + b"1," + b"9" * 70000 + b",0\n",
        "huge_text_field.csv": table + b"1," + b"a" * 70000 + b",0\n",
        "unterminated_quote.csv": b'x0,"x1,label\n1,2,3\n',
        "text_after_quote.csv": b'x0,"x1"z,label\n1,2,3\n',
        "embedded_nul.csv": b"x0,x1,label\n1,2\x00,0\n",
        "nul_in_header.csv": b"x0\x00,x1\n1,2\n",
        "binary_garbage.csv": bytes(range(256)),
        "utf16_bom.csv": "x0,x1\n1,2\n".encode("utf-16"),
        "gzip_truncated.csv.gz": gz(table)[:-6],
        "gzip_bad_crc.csv.gz": corrupt_crc(gz(table)),
    }
    return good, bad


# ---------------------------------------------------------------------------------------

def write_folder(folder, files):
    """Replaces the generated files of `folder`, keeping fuzzer regressions (fuzz-*)."""
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if not name.startswith("fuzz-"):
            os.remove(os.path.join(folder, name))
    for name, data in sorted(files.items()):
        with open(os.path.join(folder, name), "wb") as out:
            out.write(data)


def main():
    makers = {"idx": idx_files, "npy": npy_files, "npz": npz_files, "csv": csv_files}
    for fmt in FORMATS:
        good, bad = makers[fmt]()
        write_folder(os.path.join(HERE, fmt, "good"), good)
        write_folder(os.path.join(HERE, fmt, "bad"), bad)
        print("%s: %d good, %d bad" % (fmt, len(good), len(bad)))


if __name__ == "__main__":
    main()
