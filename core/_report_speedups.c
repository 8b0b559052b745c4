/* The hottest loops of core.report.ReportBuilder, in C.

   core/report.py holds the same functions in Python (_place_cards_python,
   _place_remains_rows_python, _add_keyed_orders_python, _add_size_rows_python): they are the
   reference, used where this module was not compiled, and tests check that both give the
   same tables, rows, sums and errors. Only the public C API is used, so any CPython 3.11+
   builds it.

   Why C: these loops do a few dict, string and integer operations per size, stock entry,
   order or row, and the interpreter's work around those was a fifth to a third of each of
   a large seller's report steps (docs/performance.md, issue 7, part 12). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>

/* A size's figures packed in one integer (core.report): ordered + cancelled << 30 +
   stock << 60. */
#define COUNT_BITS 30
#define COUNT_MASK ((1ULL << COUNT_BITS) - 1)
#define STOCK_SHIFT 60
#define ORDERS_MASK ((1ULL << STOCK_SHIFT) - 1)
/* Integers up to 2**53 convert to a double exactly: their quotient is then the one Python's
   int / int gives. */
#define EXACT_IN_DOUBLE (1LL << 53)

static PyObject *stock_shift; /* the int 60 */

static int
compare_offsets(const void *a, const void *b)
{
    Py_ssize_t x = *(const Py_ssize_t *)a, y = *(const Py_ssize_t *)b;
    return (x > y) - (x < y);
}

/* Whether item `base` + `delta` of the table exists (no overflow in the sum). */
static int
in_table(PyObject *table, Py_ssize_t base, Py_ssize_t delta)
{
    Py_ssize_t length = PyList_GET_SIZE(table);
    if (base < 0 || delta < 0 || base >= length || delta >= length - base) {
        PyErr_SetString(PyExc_IndexError, "a size's offset is outside the table");
        return 0;
    }
    return 1;
}

/* Item `base` + `delta` of the table, checked; a borrowed reference. */
static PyObject *
table_item(PyObject *table, Py_ssize_t base, Py_ssize_t delta)
{
    return in_table(table, base, delta) ? PyList_GET_ITEM(table, base + delta) : NULL;
}

/* The figures at item `base` + `delta` of the table: a dict or None (borrowed), else NULL
   with an error. */
static PyObject *
figures_at(PyObject *table, Py_ssize_t base, Py_ssize_t delta)
{
    PyObject *figures = table_item(table, base, delta);
    if (figures != NULL && figures != Py_None && !PyDict_CheckExact(figures)) {
        PyErr_SetString(PyExc_TypeError, "a size's figures must be a dict or None");
        return NULL;
    }
    return figures;
}

/* Whether a function got the `expected` number of arguments (else a TypeError). */
static int
takes(Py_ssize_t nargs, Py_ssize_t expected, const char *function)
{
    if (nargs != expected) {
        PyErr_Format(PyExc_TypeError, "%s takes %zd arguments", function, expected);
        return 0;
    }
    return 1;
}

PyDoc_STRVAR(add_keyed_orders_doc,
"add_keyed_orders(table, by_key, keys, slot, name, one) -> list[str]\n\n"
"Add `one` to table[by_key[key] + slot][name] for each key, in the order of the sizes'\n"
"offsets (a dict {name: one} where the slot is None); return the keys by_key lacks.");

static PyObject *
add_keyed_orders(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (!takes(nargs, 6, "add_keyed_orders")) {
        return NULL;
    }
    PyObject *table = args[0], *by_key = args[1], *name = args[4], *one = args[5];
    if (!PyList_CheckExact(table) || !PyDict_CheckExact(by_key) || !PyLong_CheckExact(one)) {
        PyErr_SetString(PyExc_TypeError, "table must be a list, by_key a dict, one an int");
        return NULL;
    }
    Py_ssize_t slot = PyLong_AsSsize_t(args[3]);
    if (slot == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *keys = PySequence_Fast(args[2], "keys must be a sequence");
    if (keys == NULL) {
        return NULL;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(keys), found = 0;
    Py_ssize_t *offsets = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(count ? count : 1));
    PyObject *unmatched = PyList_New(0);
    if (offsets == NULL || unmatched == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    /* Items and length are read again for each key: a key's __eq__ could run Python code
       (never for the str the builder gives). */
    for (Py_ssize_t i = 0; i < count && i < PySequence_Fast_GET_SIZE(keys); i++) {
        PyObject *key = Py_NewRef(PySequence_Fast_GET_ITEM(keys, i));
        PyObject *size = PyDict_GetItemWithError(by_key, key);
        Py_ssize_t offset = -1;
        int failed = 0;
        if (size != NULL) {
            Py_INCREF(size);
            offset = PyLong_AsSsize_t(size);
            Py_DECREF(size);
            failed = (offset == -1 && PyErr_Occurred()) || !in_table(table, offset, slot);
        }
        else {
            failed = PyErr_Occurred() || PyList_Append(unmatched, key) < 0;
        }
        Py_DECREF(key);
        if (failed) {
            goto error;
        }
        if (size != NULL) {
            offsets[found++] = offset + slot;
        }
    }
    /* The records and the dicts reached lie in memory in about the table's order. */
    qsort(offsets, (size_t)found, sizeof(Py_ssize_t), compare_offsets);
    for (Py_ssize_t i = 0; i < found; i++) {
        PyObject *figures = figures_at(table, offsets[i], 0);
        if (figures == NULL) {
            goto error;
        }
        if (figures == Py_None) {
            figures = PyDict_New();
            if (figures == NULL || PyDict_SetItem(figures, name, one) < 0) {
                Py_XDECREF(figures);
                goto error;
            }
            PyList_SetItem(table, offsets[i], figures); /* steals figures, drops the None */
            continue;
        }
        Py_INCREF(figures); /* held: comparing names may run Python code */
        PyObject *known = PyDict_GetItemWithError(figures, name);
        PyObject *sum = NULL;
        if (known != NULL) {
            Py_INCREF(known);
            sum = PyNumber_Add(known, one);
            Py_DECREF(known);
        }
        else if (!PyErr_Occurred()) {
            sum = Py_NewRef(one);
        }
        int failed = sum == NULL || PyDict_SetItem(figures, name, sum) < 0;
        Py_XDECREF(sum);
        Py_DECREF(figures);
        if (failed) {
            goto error;
        }
    }
    PyMem_Free(offsets);
    Py_DECREF(keys);
    return unmatched;
error:
    PyMem_Free(offsets);
    Py_XDECREF(unmatched);
    Py_DECREF(keys);
    return NULL;
}

/* Append one row's ten values to `values`, taking the references of the last four. */
static int
append_row(PyObject *values, PyObject *head[6], PyObject *stock, PyObject *ordered,
           PyObject *cancelled, PyObject *cover)
{
    PyObject *row[10] = {head[0], head[1], head[2], head[3], head[4], head[5],
                         stock, ordered, cancelled, cover};
    int failed = 0;
    for (int i = 0; i < 10; i++) {
        if (!failed && PyList_Append(values, row[i]) < 0) {
            failed = 1;
        }
    }
    Py_DECREF(stock);
    Py_DECREF(ordered);
    Py_DECREF(cancelled);
    Py_DECREF(cover);
    return failed ? -1 : 0;
}

/* Python's stock * window_days / net, for the rare figures a double cannot hold exactly. */
static PyObject *
cover_as_python(PyObject *stock, long long window_days, long long net)
{
    PyObject *days = PyLong_FromLongLong(window_days), *divisor = PyLong_FromLongLong(net);
    PyObject *product = (days && divisor) ? PyNumber_Multiply(stock, days) : NULL;
    PyObject *cover = product ? PyNumber_TrueDivide(product, divisor) : NULL;
    Py_XDECREF(days);
    Py_XDECREF(divisor);
    Py_XDECREF(product);
    return cover;
}

PyDoc_STRVAR(add_size_rows_doc,
"add_size_rows(values, table, sizes, slot, kind, nm_id, window_days) -> (units, ordered, cancelled)\n\n"
"For each size offset in `sizes`, the rows of its figures at table[size + slot] (warehouse\n"
"names sorted), appended to `values` ten values a row; the slot is set to None. Returns the\n"
"sums of their stock, orders and cancelled orders.");

static PyObject *
add_size_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (!takes(nargs, 7, "add_size_rows")) {
        return NULL;
    }
    PyObject *values = args[0], *table = args[1], *kind = args[4], *nm_id = args[5];
    if (!PyList_CheckExact(values) || !PyList_CheckExact(table)) {
        PyErr_SetString(PyExc_TypeError, "values and table must be lists");
        return NULL;
    }
    Py_ssize_t slot = PyLong_AsSsize_t(args[3]);
    if (slot == -1 && PyErr_Occurred()) {
        return NULL;
    }
    long long window_days = PyLong_AsLongLong(args[6]);
    if (window_days == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *sizes = PySequence_Fast(args[2], "sizes must be a sequence");
    if (sizes == NULL) {
        return NULL;
    }
    /* Stock sums in C while they fit; `units_total` takes what does not. */
    long long units = 0, ordered_sum = 0, cancelled_sum = 0;
    PyObject *units_total = PyLong_FromLong(0);
    PyObject *figures = NULL, *names = NULL, *stock = NULL;
    PyObject *record[3] = {NULL, NULL, NULL};
    if (units_total == NULL) {
        goto error;
    }
    /* The length and items are read again for each size, as in the other loops. */
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(sizes); i++) {
        PyObject *size_object = Py_NewRef(PySequence_Fast_GET_ITEM(sizes, i));
        Py_ssize_t size = PyLong_AsSsize_t(size_object);
        Py_DECREF(size_object);
        if (size == -1 && PyErr_Occurred()) {
            goto error;
        }
        PyObject *at = figures_at(table, size, slot);
        if (at == NULL) {
            goto error;
        }
        if (at == Py_None) {
            continue;
        }
        for (int field = 0; field < 3; field++) { /* chrt_id, tech size, barcode */
            PyObject *item = table_item(table, size, 1 + field);
            if (item == NULL) {
                goto error;
            }
            record[field] = Py_NewRef(item); /* held: sorting may run Python code */
        }
        figures = Py_NewRef(at);
        /* The figures go as the rows grow (a large seller's are ~60 MB). */
        PyList_SetItem(table, size + slot, Py_NewRef(Py_None));
        names = PyDict_Keys(figures);
        if (names == NULL || (PyList_GET_SIZE(names) > 1 && PyList_Sort(names) < 0)) {
            goto error;
        }
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(names); j++) {
            PyObject *name = PyList_GET_ITEM(names, j);
            PyObject *packed = PyDict_GetItemWithError(figures, name);
            if (packed == NULL) {
                if (!PyErr_Occurred()) {
                    PyErr_SetString(PyExc_RuntimeError, "figures changed while read");
                }
                goto error;
            }
            if (!PyLong_CheckExact(packed)) {
                PyErr_SetString(PyExc_TypeError, "packed figures must be ints");
                goto error;
            }
            stock = PyNumber_Rshift(packed, stock_shift);
            if (stock == NULL) {
                goto error;
            }
            unsigned long long low = PyLong_AsUnsignedLongLongMask(packed);
            if (low == (unsigned long long)-1 && PyErr_Occurred()) {
                goto error;
            }
            int overflow;
            long long stock_c = PyLong_AsLongLongAndOverflow(stock, &overflow);
            if (stock_c == -1 && PyErr_Occurred()) {
                goto error;
            }
            long long units_after;
            if (!overflow && !__builtin_add_overflow(units, stock_c, &units_after)) {
                units = units_after;
            }
            else {
                PyObject *sum = PyNumber_Add(units_total, stock);
                if (sum == NULL) {
                    goto error;
                }
                Py_SETREF(units_total, sum);
                overflow = 1;
            }
            PyObject *head[6] = {nm_id, record[0], record[2], record[1], name, kind};
            unsigned long long orders_bits = low & ORDERS_MASK;
            PyObject *ordered, *cancelled, *cover;
            if (!orders_bits) { /* stock only */
                ordered = PyLong_FromLong(0);
                cancelled = PyLong_FromLong(0);
                cover = Py_NewRef(Py_None);
            }
            else {
                long long n = (long long)(orders_bits & COUNT_MASK);
                long long c = (long long)(orders_bits >> COUNT_BITS & COUNT_MASK);
                long long net = n - c, days_stock;
                ordered_sum += n;
                cancelled_sum += c;
                ordered = PyLong_FromLongLong(n);
                cancelled = PyLong_FromLongLong(c);
                if (net <= 0) {
                    cover = Py_NewRef(Py_None);
                }
                else if (!overflow && !__builtin_mul_overflow(stock_c, window_days, &days_stock)
                         && days_stock < EXACT_IN_DOUBLE && days_stock > -EXACT_IN_DOUBLE) {
                    cover = PyFloat_FromDouble((double)days_stock / (double)net);
                }
                else {
                    cover = cover_as_python(stock, window_days, net);
                }
            }
            if (ordered == NULL || cancelled == NULL || cover == NULL) {
                Py_XDECREF(ordered);
                Py_XDECREF(cancelled);
                Py_XDECREF(cover);
                goto error;
            }
            int failed = append_row(values, head, stock, ordered, cancelled, cover);
            stock = NULL; /* append_row took it */
            if (failed) {
                goto error;
            }
        }
        Py_CLEAR(names);
        Py_CLEAR(figures);
        for (int field = 0; field < 3; field++) {
            Py_CLEAR(record[field]);
        }
    }
    Py_DECREF(sizes);
    PyObject *in_c = PyLong_FromLongLong(units);
    PyObject *total = in_c ? PyNumber_Add(units_total, in_c) : NULL;
    Py_XDECREF(in_c);
    Py_DECREF(units_total);
    if (total == NULL) {
        return NULL;
    }
    return Py_BuildValue("(NLL)", total, ordered_sum, cancelled_sum);
error:
    for (int field = 0; field < 3; field++) {
        Py_XDECREF(record[field]);
    }
    Py_XDECREF(stock);
    Py_XDECREF(names);
    Py_XDECREF(figures);
    Py_XDECREF(units_total);
    Py_DECREF(sizes);
    return NULL;
}

/* Python's a == b for two warehouse names (str, so no Python code runs). */
static int
same_name(PyObject *a, PyObject *b)
{
    if (a == b) {
        return 1;
    }
    if (PyUnicode_CheckExact(a) && PyUnicode_CheckExact(b)) {
        return PyUnicode_GET_LENGTH(a) == PyUnicode_GET_LENGTH(b) && PyUnicode_Compare(a, b) == 0;
    }
    return PyObject_RichCompareBool(a, b, Py_EQ);
}

/* counts[key] = counts.get(key, 0) + amount */
static int
add_to(PyObject *counts, PyObject *key, PyObject *amount)
{
    PyObject *known = PyDict_GetItemWithError(counts, key);
    if (known == NULL && PyErr_Occurred()) {
        return -1;
    }
    PyObject *sum = known ? PyNumber_Add(known, amount) : Py_NewRef(amount);
    if (sum == NULL) {
        return -1;
    }
    int failed = PyDict_SetItem(counts, key, sum);
    Py_DECREF(sum);
    return failed;
}

static PyObject *attr_nm_id, *attr_barcode, *attr_warehouses;

PyDoc_STRVAR(place_remains_doc,
"place_remains(remains, by_key, table, slot, levels, to_buyers_name, to_buyers,\n"
"              returns_name, returns, ignored_name, unmatched) -> None\n\n"
"core.report._place_remains_rows_python, in C.");

static PyObject *
place_remains(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (!takes(nargs, 11, "place_remains")) {
        return NULL;
    }
    PyObject *by_key = args[1], *table = args[2], *levels = args[4];
    PyObject *to_buyers_name = args[5], *to_buyers = args[6], *returns_name = args[7];
    PyObject *returns = args[8], *ignored_name = args[9], *unmatched = args[10];
    if (!PyDict_CheckExact(by_key) || !PyList_CheckExact(table) || !PyTuple_CheckExact(levels)
        || !PyDict_CheckExact(to_buyers) || !PyDict_CheckExact(returns)) {
        PyErr_SetString(PyExc_TypeError, "place_remains: wrong argument types");
        return NULL;
    }
    Py_ssize_t slot = PyLong_AsSsize_t(args[3]);
    if (slot == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t shared_levels = PyTuple_GET_SIZE(levels);
    PyObject *rows = PySequence_Fast(args[0], "remains must be a sequence");
    if (rows == NULL) {
        return NULL;
    }
    /* Held across one row; cleared at its end. */
    PyObject *nm_id = NULL, *barcode = NULL, *key = NULL, *size_object = NULL;
    PyObject *entries = NULL, *at_size = NULL;
    /* " <nm_id>" of the last product seen: a product's rows come together. */
    PyObject *last_nm_id = NULL, *suffix = NULL;
    PyObject *row = NULL;
    /* The length and items are read again after each row: `unmatched` runs Python code. */
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(rows); i++) {
        row = Py_NewRef(PySequence_Fast_GET_ITEM(rows, i));
        nm_id = PyObject_GetAttr(row, attr_nm_id);
        barcode = nm_id ? PyObject_GetAttr(row, attr_barcode) : NULL;
        if (barcode == NULL) {
            goto error;
        }
        if (last_nm_id == NULL || !(last_nm_id == nm_id ||
                                    PyObject_RichCompareBool(last_nm_id, nm_id, Py_EQ) == 1)) {
            if (PyErr_Occurred()) {
                goto error;
            }
            Py_XSETREF(suffix, PyUnicode_FromFormat(" %S", nm_id));
            Py_XSETREF(last_nm_id, Py_NewRef(nm_id));
            if (suffix == NULL) {
                goto error;
            }
        }
        key = PyUnicode_Concat(barcode, suffix); /* core.report.order_size_key */
        if (key == NULL) {
            goto error;
        }
        size_object = PyDict_GetItemWithError(by_key, key);
        if (size_object != NULL) {
            Py_INCREF(size_object);
        }
        else if (PyErr_Occurred()) {
            goto error;
        }
        else { /* not a card size of its product: Python finds or makes its size */
            size_object = PyObject_CallOneArg(unmatched, row);
            if (size_object == NULL) {
                goto error;
            }
        }
        Py_ssize_t size = PyLong_AsSsize_t(size_object);
        if ((size == -1 && PyErr_Occurred()) || !in_table(table, size, slot)) {
            goto error;
        }
        entries = PyObject_GetAttr(row, attr_warehouses);
        if (entries == NULL) {
            goto error;
        }
        PyObject *fast = PySequence_Fast(entries, "a row's warehouses must be a sequence");
        Py_SETREF(entries, fast);
        if (entries == NULL) {
            goto error;
        }
        Py_ssize_t n_entries = PySequence_Fast_GET_SIZE(entries);
        for (Py_ssize_t j = 0; j < n_entries; j++) {
            PyObject *entry = PySequence_Fast_GET_ITEM(entries, j);
            if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 2) {
                PyErr_SetString(PyExc_ValueError, "a warehouse entry must be (name, quantity)");
                goto error;
            }
            PyObject *name = PyTuple_GET_ITEM(entry, 0), *quantity = PyTuple_GET_ITEM(entry, 1);
            int is;
            if ((is = same_name(name, to_buyers_name)) != 0) {
                if (is < 0 || add_to(to_buyers, nm_id, quantity) < 0) {
                    goto error;
                }
                continue;
            }
            if ((is = same_name(name, returns_name)) != 0) {
                if (is < 0 || add_to(returns, nm_id, quantity) < 0) {
                    goto error;
                }
                continue;
            }
            if ((is = same_name(name, ignored_name)) != 0) {
                if (is < 0) {
                    goto error;
                }
                continue;
            }
            if (!PyLong_CheckExact(quantity)) {
                PyErr_SetString(PyExc_TypeError, "a warehouse's quantity must be an int");
                goto error;
            }
            int overflow;
            long long units = PyLong_AsLongLongAndOverflow(quantity, &overflow);
            if (units == -1 && PyErr_Occurred()) {
                goto error;
            }
            if (overflow < 0 || (!overflow && units <= 0)) {
                continue;
            }
            if (at_size == NULL) {
                PyObject *known = figures_at(table, size, slot);
                if (known == NULL) {
                    goto error;
                }
                if (known == Py_None) {
                    at_size = PyDict_New();
                    if (at_size == NULL) {
                        goto error;
                    }
                    PyList_SetItem(table, size + slot, Py_NewRef(at_size));
                }
                else {
                    at_size = Py_NewRef(known);
                }
            }
            PyObject *figures;
            if (!overflow && units < shared_levels) {
                figures = Py_NewRef(PyTuple_GET_ITEM(levels, units));
            }
            else {
                figures = PyNumber_Lshift(quantity, stock_shift);
                if (figures == NULL) {
                    goto error;
                }
            }
            int failed = add_to(at_size, name, figures);
            Py_DECREF(figures);
            if (failed) {
                goto error;
            }
        }
        Py_CLEAR(nm_id);
        Py_CLEAR(barcode);
        Py_CLEAR(key);
        Py_CLEAR(size_object);
        Py_CLEAR(entries);
        Py_CLEAR(at_size);
        Py_CLEAR(row);
    }
    Py_XDECREF(last_nm_id);
    Py_XDECREF(suffix);
    Py_DECREF(rows);
    Py_RETURN_NONE;
error:
    Py_XDECREF(row);
    Py_XDECREF(nm_id);
    Py_XDECREF(barcode);
    Py_XDECREF(key);
    Py_XDECREF(size_object);
    Py_XDECREF(entries);
    Py_XDECREF(at_size);
    Py_XDECREF(last_nm_id);
    Py_XDECREF(suffix);
    Py_DECREF(rows);
    return NULL;
}

static PyObject *attr_vendor_code, *attr_brand, *attr_subject, *attr_title, *attr_sizes;
static PyObject *attr_chrt_id, *attr_tech_size, *attr_barcodes, *empty_text;

/* Whether the product's records from `first` on hold (chrt_id, tech_size): a size listed
   twice. -1 on an error. */
static int
listed_before(PyObject *table, Py_ssize_t first, PyObject *chrt_id, PyObject *tech_size)
{
    for (Py_ssize_t known = first; known + 2 < PyList_GET_SIZE(table); known += 6) {
        /* Held while compared: a comparison may run Python code. */
        PyObject *chrt_here = Py_NewRef(PyList_GET_ITEM(table, known + 1));
        PyObject *size_here = Py_NewRef(PyList_GET_ITEM(table, known + 2));
        int same = PyObject_RichCompareBool(chrt_here, chrt_id, Py_EQ);
        if (same == 1) {
            same = PyObject_RichCompareBool(size_here, tech_size, Py_EQ);
        }
        Py_DECREF(chrt_here);
        Py_DECREF(size_here);
        if (same != 0) {
            return same;
        }
    }
    return 0;
}

/* One card size: its record, by_chrt and by_key entries; 0 when it was listed before. */
static int
place_card_size(PyObject *card_size, PyObject *nm_id, PyObject *suffix, Py_ssize_t first,
                PyObject *table, PyObject *by_chrt, PyObject *by_key)
{
    int result = -1;
    PyObject *offset = NULL, *barcodes = NULL, *key = NULL;
    PyObject *chrt_id = PyObject_GetAttr(card_size, attr_chrt_id);
    PyObject *tech_size = chrt_id ? PyObject_GetAttr(card_size, attr_tech_size) : NULL;
    PyObject *barcodes_attr = tech_size ? PyObject_GetAttr(card_size, attr_barcodes) : NULL;
    if (barcodes_attr == NULL) {
        goto done;
    }
    barcodes = PySequence_Fast(barcodes_attr, "a size's barcodes must be a sequence");
    if (barcodes == NULL) {
        goto done;
    }
    int seen = PyDict_Contains(by_chrt, chrt_id);
    if (seen == 1) {
        seen = listed_before(table, first, chrt_id, tech_size);
    }
    if (seen != 0) {
        result = seen < 0 ? -1 : 0; /* a size listed twice must not give its rows twice */
        goto done;
    }
    offset = PyLong_FromSsize_t(PyList_GET_SIZE(table));
    if (offset == NULL) {
        goto done;
    }
    Py_ssize_t n_barcodes = PySequence_Fast_GET_SIZE(barcodes);
    PyObject *shown = n_barcodes ? PySequence_Fast_GET_ITEM(barcodes, 0) : empty_text;
    PyObject *fields[6] = {nm_id, chrt_id, tech_size, shown, Py_None, Py_None};
    for (int field = 0; field < 6; field++) { /* the size's record */
        if (PyList_Append(table, fields[field]) < 0) {
            goto done;
        }
    }
    if (PyDict_SetDefault(by_chrt, chrt_id, offset) == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n_barcodes; i++) {
        key = PyUnicode_Concat(PySequence_Fast_GET_ITEM(barcodes, i), suffix);
        if (key == NULL || PyDict_SetDefault(by_key, key, offset) == NULL) {
            goto done;
        }
        Py_CLEAR(key);
    }
    result = 1;
done:
    Py_XDECREF(key);
    Py_XDECREF(offset);
    Py_XDECREF(barcodes);
    Py_XDECREF(barcodes_attr);
    Py_XDECREF(tech_size);
    Py_XDECREF(chrt_id);
    return result;
}

PyDoc_STRVAR(place_cards_doc,
"place_cards(cards, products, descriptions, table, by_chrt, by_key, first_size, card_sizes)\n"
"-> None\n\ncore.report._place_cards_python, in C.");

static PyObject *
place_cards(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (!takes(nargs, 8, "place_cards")) {
        return NULL;
    }
    PyObject *products = args[1], *descriptions = args[2], *table = args[3], *by_chrt = args[4];
    PyObject *by_key = args[5], *first_size = args[6], *card_sizes = args[7];
    if (!PyDict_CheckExact(products) || !PyList_CheckExact(descriptions)
        || !PyList_CheckExact(table) || !PyDict_CheckExact(by_chrt) || !PyDict_CheckExact(by_key)
        || !PyDict_CheckExact(first_size) || !PyDict_CheckExact(card_sizes)) {
        PyErr_SetString(PyExc_TypeError, "place_cards: wrong argument types");
        return NULL;
    }
    PyObject *cards = PySequence_Fast(args[0], "cards must be a sequence");
    if (cards == NULL) {
        return NULL;
    }
    PyObject *card = NULL, *nm_id = NULL, *suffix = NULL, *sizes = NULL, *number = NULL;
    PyObject *description[4] = {NULL, NULL, NULL, NULL};
    PyObject *described[4] = {attr_vendor_code, attr_brand, attr_subject, attr_title};
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(cards); i++) {
        card = Py_NewRef(PySequence_Fast_GET_ITEM(cards, i));
        nm_id = PyObject_GetAttr(card, attr_nm_id);
        if (nm_id == NULL) {
            goto error;
        }
        for (int field = 0; field < 4; field++) {
            description[field] = PyObject_GetAttr(card, described[field]);
            if (description[field] == NULL) {
                goto error;
            }
        }
        number = PyLong_FromSsize_t(PyList_GET_SIZE(descriptions));
        if (number == NULL || PyDict_SetItem(products, nm_id, number) < 0) {
            goto error;
        }
        Py_CLEAR(number);
        for (int field = 0; field < 4; field++) {
            if (PyList_Append(descriptions, description[field]) < 0) {
                goto error;
            }
            Py_CLEAR(description[field]);
        }
        suffix = PyUnicode_FromFormat(" %S", nm_id); /* core.report.order_size_key's end */
        PyObject *sizes_attr = suffix ? PyObject_GetAttr(card, attr_sizes) : NULL;
        if (sizes_attr == NULL) {
            goto error;
        }
        sizes = PySequence_Fast(sizes_attr, "a card's sizes must be a sequence");
        Py_DECREF(sizes_attr);
        if (sizes == NULL) {
            goto error;
        }
        Py_ssize_t first = PyList_GET_SIZE(table), placed = 0;
        for (Py_ssize_t j = 0; j < PySequence_Fast_GET_SIZE(sizes); j++) {
            int done = place_card_size(PySequence_Fast_GET_ITEM(sizes, j), nm_id, suffix, first,
                                       table, by_chrt, by_key);
            if (done < 0) {
                goto error;
            }
            placed += done;
        }
        if (placed) {
            number = PyLong_FromSsize_t(first);
            if (number == NULL || PyDict_SetItem(first_size, nm_id, number) < 0) {
                goto error;
            }
            Py_SETREF(number, PyLong_FromSsize_t(placed));
            if (number == NULL || PyDict_SetItem(card_sizes, nm_id, number) < 0) {
                goto error;
            }
            Py_CLEAR(number);
        }
        Py_CLEAR(sizes);
        Py_CLEAR(suffix);
        Py_CLEAR(nm_id);
        Py_CLEAR(card);
    }
    Py_DECREF(cards);
    Py_RETURN_NONE;
error:
    for (int field = 0; field < 4; field++) {
        Py_XDECREF(description[field]);
    }
    Py_XDECREF(number);
    Py_XDECREF(sizes);
    Py_XDECREF(suffix);
    Py_XDECREF(nm_id);
    Py_XDECREF(card);
    Py_DECREF(cards);
    return NULL;
}

static PyMethodDef methods[] = {
    {"add_keyed_orders", (PyCFunction)(void (*)(void))add_keyed_orders, METH_FASTCALL,
     add_keyed_orders_doc},
    {"add_size_rows", (PyCFunction)(void (*)(void))add_size_rows, METH_FASTCALL,
     add_size_rows_doc},
    {"place_remains", (PyCFunction)(void (*)(void))place_remains, METH_FASTCALL,
     place_remains_doc},
    {"place_cards", (PyCFunction)(void (*)(void))place_cards, METH_FASTCALL, place_cards_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups = {
    PyModuleDef_HEAD_INIT, "core._report_speedups",
    "The hottest loops of core.report in C (see core/_report_speedups.c).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__report_speedups(void)
{
    stock_shift = PyLong_FromLong(STOCK_SHIFT);
    attr_nm_id = PyUnicode_InternFromString("nm_id");
    attr_barcode = PyUnicode_InternFromString("barcode");
    attr_warehouses = PyUnicode_InternFromString("warehouses");
    attr_vendor_code = PyUnicode_InternFromString("vendor_code");
    attr_brand = PyUnicode_InternFromString("brand");
    attr_subject = PyUnicode_InternFromString("subject");
    attr_title = PyUnicode_InternFromString("title");
    attr_sizes = PyUnicode_InternFromString("sizes");
    attr_chrt_id = PyUnicode_InternFromString("chrt_id");
    attr_tech_size = PyUnicode_InternFromString("tech_size");
    attr_barcodes = PyUnicode_InternFromString("barcodes");
    empty_text = PyUnicode_FromString("");
    if (!stock_shift || !attr_nm_id || !attr_barcode || !attr_warehouses || !attr_vendor_code
        || !attr_brand || !attr_subject || !attr_title || !attr_sizes || !attr_chrt_id
        || !attr_tech_size || !attr_barcodes || !empty_text) {
        return NULL;
    }
    return PyModule_Create(&speedups);
}
