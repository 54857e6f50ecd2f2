// Report sections of scenarios that renderMarkdown does not lay out itself,
// keyed by scenario id: a scenario of a run without an entry here is still
// reported (genericSection: its steps and its summary's figures). Add one
// line per scenario; the section gets the report's table helpers.
import type { Section } from './markdown.js';
import { bigRoomSection, bodiesSection, connectRateSection, idle15kSection, manyChannelsSection, throughLbSection } from './userload.js';
import { variantsSection } from './variants.js';

export const SECTIONS: Record<string, Section> = {
  variants: (s, kit) => [...variantsSection(s, kit.table), '', kit.stepTable(s.steps)],
  'many-channels': manyChannelsSection,
  bodies: bodiesSection,
  'through-lb': throughLbSection,
  'idle-15k': idle15kSection,
  'connect-rate': connectRateSection,
  'big-room': bigRoomSection,
};
