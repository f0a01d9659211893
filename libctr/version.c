#include "libctr/libctr.h"

CTR_API const char *ctr_version(void)
{
    return CTR_VERSION;
}

CTR_API const char *ctr_oci_spec_version(void)
{
    return CTR_OCI_SPEC_VERSION;
}
