/**
 * Endpoints the target policy must refuse (DESIGN §8): the metadata address in every IP
 * spelling, link-local, unspecified and multicast. One list for the unit and the HTTP tests.
 * @module
 */
export const REFUSED_ENDPOINTS: readonly string[] = [
  "http://169.254.169.254/",
  "http://2852039166/",
  "http://0251.0376.0251.0376/",
  "http://0xa9fea9fe/",
  "http://[::ffff:169.254.169.254]/",
  "http://0.0.0.0:1/",
  "http://[fe80::1]/",
  "http://[::]:8790/",
  "http://100.100.100.200/",
  "http://[fd00:ec2::254]/",
  "http://224.0.0.1:8790/",
];
