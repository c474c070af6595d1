import type { Dict } from '../i18n';

// The journeys list's words (the list loads without the builder); the
// builder's dictionary includes these.
export const listDict: Dict = {
  en: {
    'list.title': 'Journeys',
    'list.new': 'New journey',
    'list.new_name': 'New journey',
    'list.empty': 'No journeys yet. Start one with “New journey”.',
    'list.name': 'Name',
    'list.status': 'Status',
    'list.live_version': 'Live version',
    'list.created': 'Created',
    'list.updated': 'Updated',
    'list.archived': 'Show archived journeys',
    'list.back': 'Journeys',
    'status.draft': 'Draft',
    'status.live': 'Live',
    'status.paused': 'Paused',
    'status.archived': 'Archived',
  },
  ko: {
    'list.title': '여정',
    'list.new': '새 여정',
    'list.new_name': '새 여정',
    'list.empty': '아직 여정이 없습니다. “새 여정”으로 시작하세요.',
    'list.name': '이름',
    'list.status': '상태',
    'list.live_version': '운영 버전',
    'list.created': '만든 때',
    'list.updated': '고친 때',
    'list.archived': '보관된 여정 보기',
    'list.back': '여정 목록',
    'status.draft': '초안',
    'status.live': '운영 중',
    'status.paused': '일시 중지',
    'status.archived': '보관됨',
  },
};
